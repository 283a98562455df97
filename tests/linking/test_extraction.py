"""Behaviour of extract_entities, normalisation, masking and the helpers the linking feature uses."""

import time
from datetime import date

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from leads.linking import (
    Entity,
    Kind,
    company_key,
    distinct,
    extract_entities,
    mask,
    normalize_entity,
    normalize_text,
    valid_resident_id,
    valid_uscc,
)

from .corpus import CARD4, ID_X, USCC1
from .generators import full_width, grouped, luhn_complete, resident_id, uscc

PROPERTY = settings(database=None, deadline=None, max_examples=200)


def values(text, kind, accused=""):
    return [e.value for e in extract_entities(text, accused=accused) if e.kind == kind]


@pytest.mark.parametrize(
    "written",
    [
        "137-0391-1234",
        "137 0391 1234",
        "１３７０３９１１２３４",
        "１３７－０３９１－１２３４",
        "+86 13703911234",
        "+86-137-0391-1234",
        "(+86)13703911234",
        "008613703911234",
        "8613703911234",
        "013703911234",
        "137\u30000391\u30001234",  # ideographic spaces
        "137—0391—1234",
        "1370391\u200b1234",  # zero-width space pasted from a chat app
    ],
)
def test_every_way_of_writing_a_mobile_gives_the_same_value(written):
    assert values(f"老板的电话{written}，有事找他", Kind.PHONE) == ["13703911234"]


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("0391-3568123", "03913568123"),
        ("0391 3568123", "03913568123"),
        ("(0391)3568123", "03913568123"),
        ("（０３９１）３５６８１２３", "03913568123"),
        ("03913568123", "03913568123"),
        ("010-62345678", "01062345678"),
        ("+86 391 3568123", "03913568123"),
        ("0391-3568123转8001", "03913568123"),
    ],
)
def test_landlines_are_normalised_to_digits_with_area_code(written, value):
    assert values(f"座机{written}。", Kind.PHONE) == [value]


def test_raw_and_offsets_point_into_the_original_text():
    text = "电话：１３７ ０３９１ １２３４，车牌豫H·A1234"
    phone, plate = extract_entities(text)
    assert text[phone.start : phone.end] == phone.raw == "１３７ ０３９１ １２３４"
    assert text[plate.start : plate.end] == plate.raw == "豫H·A1234"
    assert (plate.value, plate.source) == ("豫HA1234", "text")


def test_offsets_survive_dropped_zero_width_characters():
    text = "\u200b\u200b焦作市\u200b宏达物流有限公司，电话13703911234"
    company, phone = extract_entities(text)
    assert company.value == "焦作市宏达物流有限公司"
    assert text[company.start : company.end] == company.raw
    assert text[phone.start : phone.end] == phone.raw == "13703911234"


def test_no_phone_is_reported_inside_an_id_or_a_card():
    id_number = resident_id("410802", date(1990, 1, 1), "123")
    text = f"身份证{id_number}，银行卡{CARD4}"
    assert "13703911234" in CARD4
    assert [(e.kind, e.value) for e in extract_entities(text)] == [
        (Kind.ID_NUMBER, id_number),
        (Kind.BANK_CARD, CARD4),
    ]


def test_adjacent_numbers_separated_by_a_space_stay_apart():
    id_number = resident_id("410802", date(1990, 1, 1), "123")
    text = f"张三 {id_number} 13703911234 0391-3568123 13803911234/13903911234"
    found = [(e.kind, e.value) for e in extract_entities(text)]
    assert found == [
        (Kind.ID_NUMBER, id_number),
        (Kind.PHONE, "13703911234"),
        (Kind.PHONE, "03913568123"),
        (Kind.PHONE, "13803911234"),
        (Kind.PHONE, "13903911234"),
    ]


def test_ids_in_groups_full_width_or_with_lower_x_are_found():
    assert values(f"身份证号{grouped(ID_X, [6, 8, 4])}", Kind.ID_NUMBER) == [ID_X]
    assert values(f"身份证号{full_width(ID_X.lower())}", Kind.ID_NUMBER) == [ID_X]


def test_invalid_numbers_are_ignored():
    bad_check = ID_X[:17] + "0"
    text = f"身份证{bad_check}，订单4111111111111112，QQ 2876543219，分机3568123，金额13703911234元"
    assert [e.kind for e in extract_entities(text)] == [Kind.PHONE]  # 11 digits that look like a mobile


def test_numbers_inside_longer_codes_are_ignored():
    assert extract_entities("快递单号SF13703911234，合同JZ2023071800125，链接a13703911234b") == []


def test_credit_code_with_letters_and_lower_case():
    assert values(f"信用代码：{USCC1.lower()}。", Kind.USCC) == [USCC1]


def test_all_digit_credit_code_is_a_credit_code_next_to_its_label():
    code = next(
        c for c in (uscc(f"{n:08d}", region="410800") for n in range(10**6, 10**6 + 200)) if c.isdigit()
    )
    assert values(f"统一社会信用代码{code}", Kind.USCC) == [code]


def test_digits_that_are_both_an_id_and_a_credit_code_follow_the_label():
    # Search for an 18-digit string valid as both; rare but possible.
    candidates = (
        resident_id("411311", born, f"{n:03d}")
        for born in (date(1980, 1, 1), date(1991, 5, 17))
        for n in range(1000)
    )
    both = next(c for c in candidates if c.isdigit() and valid_uscc(c))
    assert values(f"身份证{both}", Kind.ID_NUMBER) == [both]
    assert values(f"社会信用代码{both}", Kind.USCC) == [both]


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("豫H·A1234", "豫HA1234"),
        ("豫H A1234", "豫HA1234"),
        ("豫HA1234", "豫HA1234"),
        ("豫h·a1234", "豫HA1234"),
        ("豫H•A1234", "豫HA1234"),
        ("豫HD12345", "豫HD12345"),
        ("豫H·12345F", "豫H12345F"),
        ("豫H1234学", "豫H1234学"),
        ("豫H·6032挂", "豫H6032挂"),
    ],
)
def test_plates_are_normalised_without_separators(written, value):
    assert values(f"车牌{written}的车", Kind.PLATE) == [value]


def test_things_that_look_like_plates_are_not():
    assert values("豫HABCDE，豫H12345678，新ABC", Kind.PLATE) == []


@pytest.mark.parametrize(
    ("text", "companies"),
    [
        ("举报焦作市某某建筑工程有限公司强揽工程", ["焦作市某某建筑工程有限公司"]),
        ("张三是焦作市宏达物流有限公司的老板", ["焦作市宏达物流有限公司"]),
        ("他们被焦作市鑫源商贸有限公司的人打了", ["焦作市鑫源商贸有限公司"]),
        ("向焦作市鑫诚小额贷款有限公司借款", ["焦作市鑫诚小额贷款有限公司"]),
        ("与焦作某某建筑有限公司签订合同", ["焦作某某建筑有限公司"]),
        ("和平建材有限公司的车", ["和平建材有限公司"]),
        ("他开了一家向阳砂石厂", ["向阳砂石厂"]),
        ("河南中原建工集团有限公司焦作分公司中标", ["河南中原建工集团有限公司焦作分公司"]),
        ("某某建设(焦作)有限公司承建", ["某某建设(焦作)有限公司"]),
        ("以张三为首的涉黑犯罪集团", []),
        ("这家公司和一家砂场还有他的公司", []),
        ("砖厂厂长说厂里没人", []),
        ("村里的小额贷款公司", []),
        ("武陟县詹店镇的王记饭店", ["王记饭店"]),
        ("宏达公司、鑫源公司和顺发公司三家联合垄断", ["宏达公司", "鑫源公司", "顺发公司"]),
        ("王记饭店和顺发饭店", ["王记饭店", "顺发饭店"]),
        ("和顺建材有限公司", ["和顺建材有限公司"]),
    ],
)
def test_company_names_and_their_left_boundary(text, companies):
    assert values(text, Kind.COMPANY) == companies


@pytest.mark.parametrize(
    ("accused", "persons", "aliases"),
    [
        ("张三、李四，王五；赵六", ["张三", "李四", "王五", "赵六"], []),
        ("张三和李四", ["张三", "李四"], []),
        ("李和平", ["李和平"], []),
        ("李和平和他儿子李某某", ["李和平", "李某某"], []),
        ("村支书张三（外号“黑三”）", ["张三"], ["黑三"]),
        ("王庄村村主任李某某", ["李某某"], []),
        ("张三经理 李四老板", ["张三", "李四"], []),
        ("欧阳娜娜", ["欧阳娜娜"], []),
        ("张三等人", ["张三"], []),
        ("“光头强”", [], ["光头强"]),
        ("王某某，人称王老虎", ["王某某"], ["王老虎"]),
        ("张三（男，45岁，在逃）", ["张三"], []),
        ("不详", [], []),
        ("焦作市宏达物流有限公司老板孙某", ["孙某"], []),
        ("孙某 13703911234", ["孙某"], []),
    ],
)
def test_persons_and_aliases_from_the_accused_field(accused, persons, aliases):
    found = extract_entities("", accused=accused)
    assert [e.value for e in found if e.kind == Kind.PERSON] == persons
    assert [e.value for e in found if e.kind == Kind.ALIAS] == aliases
    for e in found:
        assert e.source == "accused"
        assert accused[e.start : e.end] == e.raw


def test_persons_come_only_from_the_accused_field():
    assert values("村支书张三带人打了李四", Kind.PERSON) == []
    assert values("", Kind.PERSON, accused="张三") == ["张三"]


def test_accused_field_also_yields_phones_and_companies():
    found = extract_entities("", accused="孙某（焦作市宏达物流有限公司，电话137 0391 1234）")
    assert [(e.kind, e.value) for e in found] == [
        (Kind.PERSON, "孙某"),
        (Kind.COMPANY, "焦作市宏达物流有限公司"),
        (Kind.PHONE, "13703911234"),
    ]


def test_empty_input():
    assert extract_entities("") == []
    assert extract_entities("", accused="") == []


def test_entity_is_frozen_and_hashable():
    entity = Entity(Kind.PHONE, "13703911234", "137-0391-1234", 0, 13)
    with pytest.raises(AttributeError):
        entity.value = "x"
    assert entity.kind == "phone"
    assert len({entity, entity}) == 1


def test_distinct_keeps_the_first_mention_of_each_value():
    found = extract_entities("13703911234，137-0391-1234，0391-3568123")
    assert [e.raw for e in distinct(found)] == ["13703911234", "0391-3568123"]


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        ("phone", "13812345678", "138****5678"),
        ("phone", "03913568123", "0391****123"),
        ("phone", "01062345678", "010*****678"),
        ("id_number", "410802199001011234", "410802********1234"),
        ("bank_card", "6228480412345678913", "6228***********8913"),
        ("plate", "豫HA1234", "豫H***34"),
        ("person", "张三", "张*"),
        ("person", "欧阳娜娜", "欧阳**"),
        ("company", "焦作市宏达物流有限公司", "焦作市宏达物流有限公司"),
        ("uscc", USCC1, USCC1),
        ("alias", "黑三", "黑三"),
    ],
)
def test_mask(kind, value, masked):
    assert mask(kind, value) == masked


def test_mask_rejects_unknown_kinds():
    with pytest.raises(ValueError):
        mask("email", "a@b.c")


@pytest.mark.parametrize(
    ("kind", "raw", "value"),
    [
        ("phone", "+86 137-0391-1234", "13703911234"),
        ("phone", "（0391）3568123", "03913568123"),
        ("phone", "12345", None),
        ("id_number", ID_X.lower(), ID_X),
        ("id_number", ID_X[:17] + "0", None),
        ("uscc", f" {USCC1.lower()} ", USCC1),
        ("bank_card", grouped(CARD4, [4, 4, 4, 4], "-"), CARD4),
        ("plate", "豫h·a1234", "豫HA1234"),
        ("plate", "豫HABCDE", None),
        ("company", " 焦作市 宏达物流有限公司 ", "焦作市宏达物流有限公司"),
        ("person", "  ", None),
    ],
)
def test_normalize_entity_for_forms_and_searches(kind, raw, value):
    assert normalize_entity(kind, raw) == value


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("焦作市某某建筑工程有限公司", "某某建筑工程"),
        ("河南省焦作市某某建筑工程有限责任公司", "某某建筑工程"),
        ("某某建筑工程有限公司", "某某建筑工程"),
        ("焦作市宏达公司", "宏达"),
        ("焦作市宏达超市", "宏达超市"),
        ("某某建设（焦作）有限公司", "某某建设"),
        ("河南中原建工集团有限公司", "河南中原建工"),
        ("武陟县某某养殖专业合作社", "某某养殖"),
    ],
)
def test_company_key_drops_region_and_legal_form(name, key):
    assert company_key(name) == key


def test_normalize_text_folds_full_width_and_unifies_dashes_spaces_dots():
    assert normalize_text("ＡＢＣ１２３，（）：；\u3000－—·•・") == "ABC123,():; --···"
    assert normalize_text("①137") == "①137"  # circled digits are not folded into numbers
    assert normalize_text("a\u200bb") == "ab"


@PROPERTY
@given(st.text())
def test_normalize_text_is_idempotent(text):
    once = normalize_text(text)
    assert normalize_text(once) == once


@PROPERTY
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_extraction_never_fails_and_offsets_match_raw(text):
    for entity in extract_entities(text, accused=text[:40]):
        source = text if entity.source == "text" else text[:40]
        assert source[entity.start : entity.end] == entity.raw


mobiles = st.builds(
    lambda second, rest: f"1{second}{rest}",
    st.sampled_from("3456789"),
    st.text("0123456789", min_size=9, max_size=9),
)


@PROPERTY
@given(
    mobiles,
    st.sampled_from([" ", "-", "", "—", "\u3000"]),
    st.sampled_from(["", "+86 ", "0086", "+86-"]),
    st.booleans(),
)
def test_any_formatting_of_a_mobile_normalises_to_the_same_value(mobile, sep, prefix, wide):
    written = prefix + grouped(mobile, [3, 4], sep)
    if wide:
        written = full_width(written)
    assert values(f"联系电话{written}。", Kind.PHONE) == [mobile]


@PROPERTY
@given(st.text("0123456789", min_size=14, max_size=17))
def test_generated_cards_are_found_but_their_digits_are_not_phones(body):
    card = luhn_complete("6" + body)
    assume(not valid_resident_id(card))
    found = extract_entities(f"卡号{card}")
    assert [(e.kind, e.value) for e in found] == [(Kind.BANK_CARD, card)]


def test_fullwidth_and_halfwidth_texts_give_the_same_entities():
    text = "电话137-0391-1234，座机0391-3568123，车牌豫H·A1234"
    narrow = [(e.kind, e.value) for e in extract_entities(text)]
    wide = [(e.kind, e.value) for e in extract_entities(full_width(text))]
    assert narrow == wide and len(narrow) == 3


@pytest.mark.parametrize(
    ("text", "accused"),
    [
        ("1" * 50_000 + "a", ""),  # a failing lookahead retried from every digit would be quadratic
        ("", "张" + "和" * 23),  # every subset of 和-splits would be exponential without memoising
        (
            "焦作市宏达物流有限公司电话13703911234，" * 4000,
            "",
        ),  # 8,000 entities: span checks must not be O(n²)
    ],
    ids=["long-digit-run", "chain-of-he", "many-entities"],
)
def test_pathological_inputs_stay_linear(text, accused):
    started = time.perf_counter()
    extract_entities(text, accused=accused)
    assert time.perf_counter() - started < 10  # generous: these took minutes (or forever) before the fixes
