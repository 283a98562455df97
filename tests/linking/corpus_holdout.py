"""A second batch of tips written after the extractor was tuned on corpus.py, in a messier voice.

First measurement, before any change made because of it: companies P 0.833 R 0.909 (个焦作市…, 有个石子厂),
aliases R 0.667 (nicknames in brackets without quotes), everything else 1.0. The fixes were general
lexicon/rule changes (measure words, 有个, bracketed nicknames); it is now part of the test like the rest.
"""

from datetime import date

from .corpus import Tip, tip
from .generators import grouped, luhn_complete, resident_id, uscc

H_ID1 = resident_id("410883", date(1988, 2, 29), "233")
H_ID2 = resident_id("410825", date(1972, 10, 1), "458")
H_USCC1 = uscc("MA3XK8P5", region="410823", kind="2", authority="9")
H_CARD1 = luhn_complete("623059112345678")  # 16 digits

HOLDOUT: list[Tip] = [
    tip(
        "领导你好 我要举报我们村的赵某某 他是村里的一霸 仗着他哥在乡里上班 把村里的坑塘全占了养鱼 谁家鸭子"
        "下去了就打死 去年还把我爹打住院了 他电话是13937125566 他还开了个焦作市利民养殖有限公司 专门套国家补贴",
        "赵某某",
        phone="13937125566",
        company="焦作市利民养殖有限公司",
        person="赵某某",
    ),
    tip(
        "实名举报河南恒基建设集团股份有限公司下属焦作恒基商品混凝土有限公司及其负责人孟某某，利用黑恶势力"
        "强揽工程，威胁其他混凝土公司不准进入马村区市场。孟某某的司机牛某开豫H·S0829（黑色奥迪）。",
        "孟某某；牛某（司机）",
        plate="豫HS0829",
        company="河南恒基建设集团股份有限公司 焦作恒基商品混凝土有限公司",
        person="孟某某 牛某",
    ),
    tip(
        f"放高利贷的叫廉某，身份证{H_ID1}，手机：156-3912-7070、微信号lianmou888。借钱要先交“服务费”"
        f"两千，打到工商银行{grouped(H_CARD1, [4, 4, 4, 4])}，不还就上门泼油漆。",
        "廉某（廉老二）",
        phone="15639127070",
        id_number=H_ID1,
        bank_card=H_CARD1,
        person="廉某",
        alias="廉老二",
    ),
    tip(
        "博爱县许良镇的个体户注意了！！有个叫“刀疤”的人带着几个小年轻挨家收“平安费”，说是给镇上的"
        "天顺保安服务有限公司交的，一户一年3000，开超市的开饭店的都得交。联系人电话：0391-8891234",
        "“刀疤”、天顺保安服务有限公司",
        phone="03918891234",
        company="天顺保安服务有限公司",
        alias="刀疤",
    ),
    tip(
        "武陟县詹店镇有个石子厂晚上偷偷生产，粉尘大得很，村民去找老板褚某理论，被他叫来的人打了。那个厂叫"
        "武陟县鑫达石料加工厂，老板褚某还是县人大代表。",
        "褚某",
        company="武陟县鑫达石料加工厂",
        person="褚某",
    ),
    tip(
        f"个体户登记的焦作市山阳区兴隆建材商行（信用代码{H_USCC1}）实际是涉黑人员柏某的洗钱窝点，"
        "柏某手下有个外号叫'二愣子'的打手专门负责暴力讨债。",
        "柏某，外号“柏哥”；“二愣子”",
        uscc=H_USCC1,
        company="焦作市山阳区兴隆建材商行",
        person="柏某",
        alias="柏哥 二愣子",
    ),
    tip(
        "中站区府城街道的拆迁工程被一个叫龚某某的人把持，他成立了焦作市府城拆迁服务有限公司和焦作市"
        "鼎力劳务派遣有限公司两家公司，拆迁户不签字就断水断电。他的电话１５５ ３９１０ ８８２２，"
        "座机２１２３４５６（区号0391）。",
        "龚某某",
        phone="15539108822",
        company="焦作市府城拆迁服务有限公司 焦作市鼎力劳务派遣有限公司",
        person="龚某某",
    ),
    tip(
        "我是开出租车的，高铁站门口排队拉客被一帮人控制，外地车不让拉，要拉必须挂靠到焦作市畅通汽车租赁"
        "有限公司，每月交1500。带头的外号叫“大军”，开一辆豫HD88123的新能源车。",
        "“大军”",
        plate="豫HD88123",
        company="焦作市畅通汽车租赁有限公司",
        alias="大军",
    ),
    tip(
        f"沁阳市紫陵镇村民反映：该镇某村会计柴某某（身份证号{grouped(H_ID2, [6, 8, 4], '-')}）私刻村委会公章，"
        "将村集体林地转包给其妻弟经营的沁阳市绿源苗木种植专业合作社，合同期30年，租金只有市场价的一成。",
        "村会计柴某某、柴某某妻弟",
        id_number=H_ID2,
        company="沁阳市绿源苗木种植专业合作社",
        person="柴某某",
    ),
    tip(
        "解放区焦东路的老王牛肉面馆和张记羊汤馆都反映有人天天来白吃白喝还要钱，领头的姓单，大家叫他单哥，"
        "听说是焦作市金盾娱乐有限公司的保安队长，电话是：13569126677 / 18303918855",
        "单某（单哥）",
        phone="13569126677 18303918855",
        company="焦作市金盾娱乐有限公司",
        person="单某",
        alias="单哥",
    ),
]
