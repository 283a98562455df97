#!/bin/sh
# Install Debian's Chromium and a CJK font when missing. Browser tests skip with a clear reason if this fails.
if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "wenquanyi\|noto.*cjk"; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "browser-deps: chromium or a CJK font is missing and cannot be installed here (need root and apt-get); browser tests will be skipped." >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || true
apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null 2>&1 \
  || echo "browser-deps: apt-get install chromium fonts-wqy-zenhei failed; browser tests will be skipped." >&2
