#!/bin/sh
# Debian packages for printing official documents: Pango (WeasyPrint's text layout), the Noto CJK fonts
# (serif for 小标宋/宋体, sans for 黑体; OFFICIAL-DOCS.md lists the substitutes) and poppler-utils
# (pdftoppm, which the tests use to look at a rendered PDF). Document tests skip with a clear reason
# if this fails.
if pkg-config --exists pango 2>/dev/null || ldconfig -p 2>/dev/null | grep -q "libpango-1.0.so"; then
  if command -v pdftoppm >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "Noto Serif CJK"; then
    exit 0
  fi
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "doc-deps: pango, Noto CJK fonts or poppler-utils are missing and cannot be installed here (need root and apt-get); PDF tests will be skipped." >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || true
apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk poppler-utils >/dev/null 2>&1 \
  || apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk poppler-utils >/dev/null 2>&1 \
  || echo "doc-deps: apt-get install pango fonts-noto-cjk poppler-utils failed; PDF tests will be skipped." >&2
