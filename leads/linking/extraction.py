"""Entity extraction from tip, lead and case texts: phones, IDs, credit codes, plates, cards, companies, names.

Pure Python and fast (precompiled regexes, one pass per kind), so it can run inside the routing task for
every tip and over a million rows in the backfill. Values are normalised so the same number written as
`137-0391-1234`, `137 0391 1234`, `１３７０３９１１２３４` or `+86 13703911234` compares equal.

Offsets (`start`, `end`) index the original string the entity came from (`source` says which one:
"text" or "accused"), so a page can highlight `raw` in place.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from . import lexicon
from .validators import (
    PLATE_PROVINCES,
    luhn_valid,
    valid_landline,
    valid_mobile,
    valid_plate,
    valid_resident_id,
    valid_uscc,
)

__all__ = [
    "Entity",
    "Kind",
    "company_key",
    "distinct",
    "extract_entities",
    "mask",
    "normalize_entity",
    "normalize_text",
]


class Kind(StrEnum):
    PHONE = "phone"
    ID_NUMBER = "id_number"
    USCC = "uscc"
    PLATE = "plate"
    BANK_CARD = "bank_card"
    COMPANY = "company"
    PERSON = "person"
    ALIAS = "alias"


@dataclass(frozen=True, slots=True)
class Entity:
    """One mention: `value` is the normalised key to index and compare, `raw` the text as written."""

    kind: Kind
    value: str
    raw: str
    start: int
    end: int
    source: str = "text"


# --- Normalisation -------------------------------------------------------------------------------------

_SPACES = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\ufe58\ufe63\uff0d"
_DOTS = "\u2022\u2027\u2219\u22c5\u0387\u30fb\uff65\u2024"
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
# Blocks whose NFKC form is one safe character: full-width ASCII, Kangxi radicals (⼀ → 一, seen in text
# pasted from PDFs), CJK compatibility ideographs, vertical and small punctuation forms. Circled digits,
# superscripts and ligatures are left alone: NFKC would turn "①137…" into a longer number.
_NFKC_BLOCKS = ((0xFF01, 0xFF5E), (0x2F00, 0x2FD5), (0xF900, 0xFAFF), (0xFE30, 0xFE4F), (0xFE50, 0xFE6B))


def _build_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for lo, hi in _NFKC_BLOCKS:
        for cp in range(lo, hi + 1):
            folded = unicodedata.normalize("NFKC", chr(cp))
            if len(folded) == 1 and folded != chr(cp):
                table[cp] = folded
    table.update({ord(c): " " for c in _SPACES})
    table.update({ord(c): "-" for c in _DASHES})
    table.update({ord(c): "·" for c in _DOTS})
    table.update({ord(c): None for c in _ZERO_WIDTH})
    # Resolve chains (e.g. ･ → ・ → ·) so that one pass is enough and normalisation is idempotent.
    for cp, target in table.items():
        while target is not None and ord(target) in table and table[ord(target)] != target:
            target = table[ord(target)]
        table[cp] = target
    return table


_TABLE = _build_table()
_ZERO_WIDTH_SET = frozenset(_ZERO_WIDTH)


def normalize_text(text: str) -> str:
    """Full-width letters, digits and punctuation to half-width; one kind of space, dash and middle dot.

    Length-preserving except that zero-width characters are dropped. Idempotent.
    """
    return text.translate(_TABLE)


def _normalize_with_offsets(text: str) -> tuple[str, list[int] | None]:
    """The normalised text and, only when characters were dropped, the original index of each character."""
    norm = text.translate(_TABLE)
    if len(norm) == len(text):
        return norm, None
    return norm, [i for i, ch in enumerate(text) if ch not in _ZERO_WIDTH_SET]


# --- Numbers: phones, IDs, credit codes, cards -----------------------------------------------------------

# A "blob" is digits joined by at most three separator characters; the groups inside are then put
# together in every contiguous way, longest first, so "137 0391 1234" and an ID written in 6-8-4 groups
# are found, two numbers separated by a space are still two, and a phone inside an ID or a card is never
# reported (only whole digit strings are classified).
# The pattern is possessive and has no lookarounds, so every digit is scanned once (a lookahead that fails
# after a long run would retry from each digit: quadratic on a pasted 20,000-digit string). Boundaries
# (no ASCII letter or digit on either side) are checked in Python.
_BLOB_RE = re.compile(r"\d(?:[ \t\-.()/一]{0,3}\d)*+[Xx]?")
_GROUP_RE = re.compile(r"\d+[Xx]?")
_USCC_TOKEN_RE = re.compile(r"[1-9ANYany][1-9]\d{6}[0-9A-Za-z]{10}(?![0-9A-Za-z])")
_SHORTEST_NUMBER = 11
_USCC_CONTEXT_RE = re.compile(r"信用代码|统一代码|社会信用|营业执照|执照号|注册号|纳税人识别号|税号")
_CARD_FIRST_DIGITS = frozenset("2345689")
_MAX_NUMBER_DIGITS = 19


def _classify_number(digits: str, *, plus: bool, uscc_context: bool) -> tuple[Kind, str] | None:
    n = len(digits)
    if n < 11:
        return None
    if digits[-1] in "Xx":
        upper = digits.upper()
        return (Kind.ID_NUMBER, upper) if n == 18 and valid_resident_id(upper) else None
    if n == 18 and valid_resident_id(digits):
        # An all-digit credit code can pass the ID check too; the label next to it decides.
        if uscc_context and valid_uscc(digits):
            return Kind.USCC, digits
        return Kind.ID_NUMBER, digits
    if n == 18 and uscc_context and valid_uscc(digits):
        return Kind.USCC, digits
    if 16 <= n <= 19 and digits[0] in _CARD_FIRST_DIGITS and luhn_valid(digits):
        return Kind.BANK_CARD, digits
    if n == 18 and valid_uscc(digits):
        return Kind.USCC, digits
    if 11 <= n <= 15:
        phone = _phone_value(digits, plus=plus)
        if phone:
            return Kind.PHONE, phone
    return None


def _phone_value(digits: str, *, plus: bool) -> str | None:
    n = len(digits)
    if n == 11 and valid_mobile(digits):
        return digits
    if digits[0] == "1":
        return None
    if n == 13 and digits.startswith("86") and valid_mobile(digits[2:]):
        return digits[2:]
    if n == 15 and digits.startswith("0086") and valid_mobile(digits[4:]):
        return digits[4:]
    if n == 12 and digits.startswith("01") and valid_mobile(digits[1:]):
        return digits[1:]  # a mobile dialled from a landline in another city: 013703911234
    if valid_landline(digits):
        return digits
    # International form of a landline drops the trunk 0: +86 391 3568123.
    for prefix, needs_plus in (("0086", False), ("86", True)):
        if digits.startswith(prefix) and (plus or not needs_plus):
            local = "0" + digits[len(prefix) :]
            if valid_landline(local):
                return local
    return None


def _numbers(norm: str, taken: _Spans) -> list[tuple[int, int, Kind, str]]:
    found: list[tuple[int, int, Kind, str]] = []
    for m in _USCC_TOKEN_RE.finditer(norm):
        if _alnum_before(norm, m.start()):
            continue
        token = m.group().upper()
        if token.isdigit() or (token[:17].isdigit() and token[17] == "X"):
            continue  # digit-only tokens go through the blob pass, which knows about IDs and cards
        if valid_uscc(token) and not taken.overlaps(m.start(), m.end()):
            found.append((m.start(), m.end(), Kind.USCC, token))
            taken.add(*m.span())
    for m in _BLOB_RE.finditer(norm):
        if (
            m.end() - m.start() < _SHORTEST_NUMBER
            or _alnum_before(norm, m.start())
            or _alnum_at(norm, m.end())
        ):
            continue
        if taken.overlaps(m.start(), m.end()):
            continue
        blob_start = m.start()
        groups = [
            (g.start() + blob_start, g.end() + blob_start, g.group()) for g in _GROUP_RE.finditer(m.group())
        ]
        # A "+86", "(+86)" or "(0391)" prefix belongs to the first number of the blob.
        plus = norm[blob_start - 1 : blob_start] == "+"
        if plus:
            blob_start -= 1
        if norm[blob_start - 1 : blob_start] == "(":
            blob_start -= 1
        i = 0
        while i < len(groups):
            hit = None
            digits = ""
            last = i
            uscc_context = bool(_USCC_CONTEXT_RE.search(norm, max(0, groups[i][0] - 16), groups[i][0]))
            for j in range(i, len(groups)):
                digits += groups[j][2]
                if len(digits) > _MAX_NUMBER_DIGITS:
                    break
                if j > i and groups[j - 1][2][-1] in "Xx":
                    break
                kind_value = _classify_number(digits, plus=plus and i == 0, uscc_context=uscc_context)
                if kind_value:
                    hit, last = kind_value, j
            if hit:
                start = blob_start if i == 0 else groups[i][0]
                end = groups[last][1]
                if i == 0 and norm[blob_start] == "(" and norm[end : end + 1] == ")":
                    end += 1
                found.append((start, end, hit[0], hit[1]))
                taken.add(start, end)
                i = last + 1
            else:
                i += 1
    return found


def _alnum_before(text: str, index: int) -> bool:
    return index > 0 and text[index - 1] < "\x80" and text[index - 1].isalnum()


def _alnum_at(text: str, index: int) -> bool:
    return index < len(text) and text[index] < "\x80" and text[index].isalnum()


class _Spans:
    """Non-overlapping (start, end) spans kept sorted, so "is this taken?" costs a bisect, not a scan."""

    __slots__ = ("starts", "ends")

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def add(self, start: int, end: int) -> None:
        i = bisect.bisect_left(self.starts, start)
        self.starts.insert(i, start)
        self.ends.insert(i, end)

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect.bisect_left(self.starts, end)  # spans starting before `end`…
        return i > 0 and self.ends[i - 1] > start  # …the last of which is the only one that can reach in

    def end_before(self, index: int) -> int:
        """The end of the last span that starts before `index` (0 if none)."""
        i = bisect.bisect_left(self.starts, index)
        return self.ends[i - 1] if i else 0

    def __iter__(self):
        return zip(self.starts, self.ends, strict=True)


# --- Plates ----------------------------------------------------------------------------------------------

_PLATE_FIND_RE = re.compile(
    rf"[{PLATE_PROVINCES}] ?[A-HJ-Za-hj-z][ ·\-.]?"
    r"(?:[0-9A-HJ-NP-Za-hj-np-z]{4}[挂学警港澳领试超]|[0-9A-HJ-NP-Za-hj-np-z]{5,6})(?![0-9A-Za-z])"
)
_PLATE_JUNK_RE = re.compile(r"[ ·\-.]")


def _plates(norm: str, taken: _Spans) -> list[tuple[int, int, Kind, str]]:
    found = []
    for m in _PLATE_FIND_RE.finditer(norm):
        raw = m.group()
        if valid_plate(raw):
            found.append((m.start(), m.end(), Kind.PLATE, _PLATE_JUNK_RE.sub("", raw).upper()))
            taken.add(*m.span())
    return found


# --- Companies -------------------------------------------------------------------------------------------


def _alternation(words: Iterable[str]) -> str:
    """A regex matching any of `words`, longest first, shaped as a trie.

    Python's re tries a flat alternation one word at a time at every position; factoring common
    prefixes (有限公司|有限责任公司 → 有限(?:责任公司|公司)) makes the word lists cheap to scan.
    """
    trie: dict = {}
    for word in set(words):
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = True

    def build(node: dict) -> str:
        end = "" in node
        branches = sorted((ch for ch in node if ch), key=lambda c: (-_depth(node[c]), c))
        parts = [re.escape(ch) + build(node[ch]) for ch in branches]
        if not parts:
            return ""
        body = parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"
        return f"(?:{body})?" if end else body

    return build(trie)


def _depth(node: dict) -> int:
    return max((1 + _depth(child) for ch, child in node.items() if ch), default=0)


_SHOP_NOT_FOLLOWED_BY = {"厂": lexicon.FACTORY_NOT_FOLLOWED_BY, "店": lexicon.SHOP_NOT_FOLLOWED_BY}
_CORP_SUFFIX_RE = re.compile(_alternation(lexicon.CORPORATE_SUFFIXES))
_SHOP_SUFFIX_RE = re.compile(
    "|".join(
        f"{re.escape(w)}(?![{_SHOP_NOT_FOLLOWED_BY.get(w, '')}])"
        if w in _SHOP_NOT_FOLLOWED_BY
        else re.escape(w)
        for w in sorted(lexicon.SHOP_SUFFIXES, key=len, reverse=True)
    )
)
_CORP_MAX_NAME = 25
_CONJUNCTIONS = frozenset("和与及跟同")
_SHOP_MAX_NAME = 12
# Company names are Chinese characters with an optional region in brackets: 某某建设(焦作)有限公司.
_NAME_TAIL_RE = re.compile(r"[\u4e00-\u9fff()]+$")
_STOP_RE = re.compile(
    f"(?P<keep>{_alternation(lexicon.COMPANY_PROTECTED)})"
    f"|(?P<stop>{_alternation(lexicon.COMPANY_STOP_WORDS)}|[{lexicon.COMPANY_STOP_CHARS}])"
)
_LEADING_RE = re.compile(f"(?:{_alternation(lexicon.COMPANY_LEADING)})+")
_GENERIC_RE = re.compile(f"(?:{_alternation(lexicon.COMPANY_GENERIC)})+")
_CRIME_TAIL_RE = re.compile(f"(?:{_alternation(lexicon.COMPANY_CRIME_TAILS)})$")


def _company_start(norm: str, lo: int, suffix_start: int, *, after_company: bool = False) -> int | None:
    """Where the name before a suffix starts, or None when there is no specific name.

    `after_company`: the window starts right where another company name ended, so a leading 和/与/及
    is a conjunction (宏达公司和顺发公司), even where it could begin a name (和顺).
    """
    tail = _NAME_TAIL_RE.search(norm, lo, suffix_start)
    if not tail:
        return None
    start = tail.start()
    window = norm[start:suffix_start]
    cut = 1 if after_company and start == lo and window[:1] in _CONJUNCTIONS else 0
    for m in _STOP_RE.finditer(window, cut):
        if m.lastgroup == "stop":
            cut = m.end()
    # Brackets belong to the name only when balanced and not at its start.
    depth = 0
    for i, ch in enumerate(window[cut:], start=cut):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                cut, depth = i + 1, 0
    if depth:
        cut = window.rfind("(") + 1
    lead = _LEADING_RE.match(window, cut)
    if lead:
        cut = lead.end()
    core = window[cut:]
    if len(core) < 2 or core.startswith("(") or _GENERIC_RE.fullmatch(core) or _CRIME_TAIL_RE.search(core):
        return None
    return start + cut


def _companies(norm: str, taken: _Spans) -> list[tuple[int, int, Kind, str]]:
    found: list[tuple[int, int, Kind, str]] = []
    floor = 0
    for m in _CORP_SUFFIX_RE.finditer(norm):
        lo = max(floor, m.start() - _CORP_MAX_NAME)
        start = _company_start(norm, lo, m.start(), after_company=bool(found) and lo == found[-1][1])
        if start is None:
            floor = m.end()
            continue
        if found and m.group().startswith("分") and start == found[-1][1] == floor:
            # 某某有限公司焦作分公司: the branch extends the company just found.
            prev = found.pop()
            start = prev[0]
        found.append((start, m.end(), Kind.COMPANY, norm[start : m.end()]))
        floor = m.end()
    corp_spans = _Spans()
    for s, e, _, _ in found:
        corp_spans.add(s, e)
    floor = shop_end = 0
    for m in _SHOP_SUFFIX_RE.finditer(norm):
        if corp_spans.overlaps(m.start(), m.end()):
            continue
        previous_end = max(corp_spans.end_before(m.start()), shop_end)
        lo = max(floor, m.start() - _SHOP_MAX_NAME, previous_end)
        start = _company_start(norm, lo, m.start(), after_company=previous_end > 0 and lo == previous_end)
        floor = m.end()
        if start is not None:
            found.append((start, m.end(), Kind.COMPANY, norm[start : m.end()]))
            shop_end = m.end()
    found = [f for f in found if not taken.overlaps(f[0], f[1])]
    for s, e, _, _ in found:
        taken.add(s, e)
    return found


_REGION_PREFIX_RE = re.compile(r"[\u4e00-\u9fff]{1,6}?(?:省|自治区|市|自治州|地区|盟|县|区|旗)")
_FORM_SUFFIX_RE = re.compile(
    r"(?:集团)?(?:股份有限公司|有限责任公司|有限公司|公司)$|集团$|(?:专业)?合作社$|\([\u4e00-\u9fff]{2,6}\)"
)


def company_key(name: str) -> str:
    """A looser key for "same company" suggestions: region prefix, brackets and legal form dropped.

    焦作市某某建筑工程有限公司 and 河南省焦作市某某建筑工程有限责任公司 both give 某某建筑工程.
    Never shorter than two characters: 焦作市宏达公司 gives 宏达, not "".
    """
    core = _FORM_SUFFIX_RE.sub("", normalize_text(name).replace(" ", ""))
    # One administrative level at a time, and never down to nothing: 焦作市宏达超市 keeps 宏达超市.
    while (m := _REGION_PREFIX_RE.match(core)) and len(core) - m.end() >= 2:
        core = core[m.end() :]
    return core


# --- Persons from the accused field ----------------------------------------------------------------------

_QUOTED_ALIAS_RE = re.compile(r"[“\"'‘「『]([^“”\"'‘’「」『』]{1,8})[”\"'’」』]")
_MARKED_ALIAS_RE = re.compile(f"(?:{_alternation(lexicon.ALIAS_MARKERS)})[:为是]?([\u4e00-\u9fff]{{2,4}})?")
_PAREN_RE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】")
_TOKEN_RE = re.compile(r"[^、,;\s/|:。!?的]+")
_TITLE_RE = re.compile(f"(?:原|前|副|现任|时任|原任)?(?:{_alternation(lexicon.TITLES)})")
_TAIL_RE = re.compile(f"(?:{_alternation(lexicon.NAME_TAILS)})$")
_CJK_RE = re.compile(r"[\u4e00-\u9fff]+")
_PLACE_END = frozenset("村镇乡县区市省街路组庄屯寨")
_ALIAS_PREFIXES = frozenset("老小阿")
_REMARK_RE = re.compile(f"{_alternation(lexicon.ALIAS_REMARKS)}")
# Pronouns and particles: 平和他 (from 李和平和他儿子) is not a name.
_NAME_CHARS_FORBIDDEN = frozenset("他她它我你们其的了着是在被把给这那")


def _is_name(s: str) -> bool:
    if not 2 <= len(s) <= 4 or not _CJK_RE.fullmatch(s) or s in lexicon.NOT_NAMES:
        return False
    if not _NAME_CHARS_FORBIDDEN.isdisjoint(s):
        return False
    if s[-1] in _PLACE_END:
        return False
    if s[:2] in lexicon.COMPOUND_SURNAMES:
        return len(s) >= 3
    return s[0] in lexicon.SURNAMES


def _is_alias(s: str) -> bool:
    return 2 <= len(s) <= 6 and bool(_CJK_RE.fullmatch(s)) and s not in lexicon.NOT_NAMES


def _is_bracketed_alias(inner: str) -> bool:
    """张三（单哥）: a bare word in brackets after a name is what people call them, unless it is a title or
    a remark (法人, 真名不详)."""
    return (
        2 <= len(inner) <= 4
        and bool(_CJK_RE.fullmatch(inner))
        and not _TITLE_RE.search(inner)
        and not _REMARK_RE.search(inner)
        and _NAME_CHARS_FORBIDDEN.isdisjoint(inner)
    )


def _name_parts(s: str, offset: int) -> list[tuple[int, str]]:
    """Names in one part of a token once titles are cut out: 王庄村支书张三 → 张三, 张三经理 → 张三."""
    names = []
    pos = 0
    last_is_name = False
    for m in [*_TITLE_RE.finditer(s), None]:
        piece = s[pos : m.start() if m else len(s)]
        tail = _TAIL_RE.search(piece)
        if tail:
            piece = piece[: tail.start()]
        if _is_name(piece):
            names.append((offset + pos, piece))
            last_is_name = m is None
        if m:
            pos = m.end()
    # A name after a title wins over words before it: 项目经理吕某 is 吕某, not 项目 and 吕某.
    return names[-1:] if last_is_name and pos else names


def _split_names(s: str, offset: int) -> list[tuple[int, str]]:
    """The reading of a token that covers most characters with names.

    和/与/及 separate names (张三和李四) but also occur inside them (李和平), so every split is tried:
    李和平和他儿子李某某 → 李和平, 李某某.
    """
    if len(s) > _MAX_TOKEN:
        return []
    return [(offset + start, name) for start, name in _best_split(s)]


_MAX_TOKEN = 24


@functools.lru_cache(maxsize=4096)
def _best_split(s: str) -> tuple[tuple[int, str], ...]:
    # Memoised on the substring: without it a token like 张和和和和… explores every subset of splits.
    best = tuple(_name_parts(s, 0))
    best_cover = sum(len(n) for _, n in best)
    for i, ch in enumerate(s):
        if ch in "和与及":
            right = tuple((start + i + 1, name) for start, name in _best_split(s[i + 1 :]))
            option = _best_split(s[:i]) + right
            cover = sum(len(n) for _, n in option)
            if cover > best_cover:
                best, best_cover = option, cover
    return best


def _persons(work: list[str]) -> list[tuple[int, int, Kind, str]]:
    """Names and nicknames from the accused field; `work` has other entities blanked out already."""
    found: list[tuple[int, int, Kind, str]] = []
    text = "".join(work)

    def blank(start: int, end: int) -> None:
        work[start:end] = [" "] * (end - start)

    for m in _QUOTED_ALIAS_RE.finditer(text):
        value = m.group(1).strip()
        if _is_alias(value):
            found.append((m.start(1), m.end(1), Kind.ALIAS, value))
        blank(m.start(), m.end())
    text = "".join(work)
    for m in _MARKED_ALIAS_RE.finditer(text):
        if m.group(1) and _is_alias(m.group(1)):
            found.append((m.start(1), m.end(1), Kind.ALIAS, m.group(1)))
        blank(m.start(), m.end())
    text = "".join(work)
    while True:  # innermost brackets first: 张三（男，45岁（虚岁））
        m = _PAREN_RE.search(text)
        if not m:
            break
        inner = m.group()[1:-1].strip()
        if _is_bracketed_alias(inner):
            offset = m.start() + 1 + m.group()[1:-1].index(inner)
            found.append((offset, offset + len(inner), Kind.ALIAS, inner))
        blank(m.start(), m.end())
        text = "".join(work)
    for token in _TOKEN_RE.finditer(text):
        s, word = token.start(), token.group()
        names = _split_names(word, s)
        found.extend((offset, offset + len(name), Kind.PERSON, name) for offset, name in names)
        if not names and len(word) == 2 and word[0] in _ALIAS_PREFIXES and _is_alias(word):
            found.append((s, s + 2, Kind.ALIAS, word))  # 老黑, 小六: what people call them
    return found


# --- Public API ------------------------------------------------------------------------------------------


def _extract(text: str, source: str, *, persons: bool) -> list[Entity]:
    norm, index = _normalize_with_offsets(text)
    taken = _Spans()
    found = _plates(norm, taken)
    found += _numbers(norm, taken)
    found += _companies(norm, taken)
    if persons:
        work = list(norm)
        for s, e in taken:
            work[s:e] = [" "] * (e - s)
        found += _persons(work)
    found.sort(key=lambda f: (f[0], f[1]))
    entities = []
    for start, end, kind, value in found:
        if index is not None:
            start, end = index[start], index[end - 1] + 1
        entities.append(Entity(kind, value, text[start:end], start, end, source))
    return entities


def extract_entities(text: str, *, accused: str = "") -> list[Entity]:
    """Every entity in a tip or lead: all kinds from `text` and `accused`, persons only from `accused`.

    Entities come in order of appearance, text first; the same value may appear more than once (use
    `distinct` for one per kind and value).
    """
    entities = _extract(text, "text", persons=False) if text else []
    if accused:
        entities += _extract(accused, "accused", persons=True)
    return entities


def distinct(entities: Iterable[Entity]) -> list[Entity]:
    """The first mention of each (kind, value), in order."""
    seen: set[tuple[str, str]] = set()
    out = []
    for e in entities:
        key = (e.kind, e.value)
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


def normalize_entity(kind: str, raw: str) -> str | None:
    """The canonical value of something typed into a form (a flag, a search), or None when invalid.

    normalize_entity("phone", "+86 137-0391-1234") == "13703911234".
    """
    kind = Kind(kind)
    norm = normalize_text(raw).strip()
    if not norm:
        return None
    if kind in (Kind.COMPANY, Kind.PERSON, Kind.ALIAS):
        value = re.sub(r"\s+", "", norm)
        return value or None
    if kind is Kind.PLATE:
        compact = _PLATE_JUNK_RE.sub("", norm).upper()
        return compact if valid_plate(compact) else None
    compact = re.sub(r"[\s\-.()/]", "", norm)
    plus = compact.startswith("+")
    compact = compact.lstrip("+")
    if kind is Kind.PHONE:
        return _phone_value(compact, plus=plus) if compact.isdigit() and 11 <= len(compact) <= 15 else None
    compact = compact.upper()
    if kind is Kind.ID_NUMBER:
        return compact if valid_resident_id(compact) else None
    if kind is Kind.USCC:
        return compact if valid_uscc(compact) else None
    return compact if luhn_valid(compact) else None  # bank card


def mask(kind: str, value: str) -> str:
    """The value as shown where the full number must not be: 138****5678, 410802********1234.

    Company names and credit codes are public registration data and are returned unchanged.
    """
    kind = Kind(kind)
    if kind is Kind.PHONE:
        if len(value) == 11 and value[0] == "1":
            return f"{value[:3]}****{value[-4:]}"
        area = 3 if value[1:2] in ("1", "2") else 4
        return value[:area] + "*" * (len(value) - area - 3) + value[-3:]
    if kind is Kind.ID_NUMBER:
        return f"{value[:6]}{'*' * (len(value) - 10)}{value[-4:]}"
    if kind is Kind.BANK_CARD:
        return f"{value[:4]}{'*' * (len(value) - 8)}{value[-4:]}"
    if kind is Kind.PLATE:
        return f"{value[:2]}{'*' * (len(value) - 4)}{value[-2:]}"
    if kind is Kind.PERSON:
        surname = 2 if value[:2] in lexicon.COMPOUND_SURNAMES and len(value) > 2 else 1
        return value[:surname] + "*" * (len(value) - surname)
    return value
