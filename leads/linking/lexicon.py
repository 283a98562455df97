"""Word lists behind the extractor: surnames, titles, company suffixes and the words that end a name.

Kept apart from the regexes so they can be reviewed (and extended) by people who read Chinese tips
rather than Python. Adding a word here changes precision on the labelled corpus in tests/linking/:
run those tests after every change.
"""


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Single-character surnames, roughly the 400 most frequent (covers well over 99% of the population).
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃"
    "武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒"
    "阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓"
    "古吉缪简车项连芦卢麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙"
    "荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼"
    "盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮"
    "都普阙浦戈伏鹿薄邸雍辜羊母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭"
    "干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由郇苌"
)
COMPOUND_SURNAMES = frozenset(
    _words(
        "欧阳 司马 诸葛 上官 东方 慕容 令狐 皇甫 尉迟 公孙 长孙 宇文 司徒 夏侯 端木 独孤 南宫 西门 万俟 闻人 "
        "呼延 赫连 澹台 轩辕 百里 第五 钟离 申屠 淳于 太史"
    )
)

# Words that look like names (a surname followed by one to three characters) but are not.
NOT_NAMES = frozenset(
    _words(
        "高利贷 黄牛 黄赌毒 江湖 马仔 于是 安全 和谐 关系 成员 司机 程序 时间 方面 石料 金融 车霸 路霸 沙霸 "
        "村霸 市霸 行霸 房东 钱款 文件 明显 常年 经常 强行 强迫 管理 原因 原来 全部 全体 全家 连续 向来 "
        "严重 伙同 何时 任何 任意 曾经 甘心 黎明 周边 周围 周末 夏天 冬天 龙头 老大 老板 老二 宋体 万元 "
        "包工头 包庇 包括 申请 陈述 刘海 白天 董事 董事长 宁可 党员 党委 宫殿 国家 "
        "国土 卫生 卫健 水利 应急 都是 都有 但是 由于 来自 来往 信访 信用 元旦 干部 展开 相关 相互 时任 "
        "原任 现任 平时 平安 海关 海事 华人 华侨 明知 云南 湖南 河南 河北 山东 山西"
    )
)

# Job titles and roles written next to a name in the accused field (longest first matters: the regex is
# built sorted by length).
TITLES = _words(
    "村党支部书记 党支部书记 村支部书记 支部书记 村委会主任 村委主任 村主任 村支书 支书 书记 主任 村长 组长 "
    "老板娘 老板 总经理 经理 董事长 法定代表人 法人代表 法人 实际控制人 控制人 股东 会计 出纳 队长 镇长 "
    "乡长 县长 所长 站长 局长 科长 股长 厂长 矿长 场长 包工头 工头 村霸 民警 辅警 协警 警察 村干部 干部 "
    "村民 委员 负责人 主管 老总 社长 理事长 监事 司机 保安 马仔 打手 大哥 头目 外甥 侄子 儿子 女婿 "
    "妻子 丈夫 弟弟 哥哥 兄弟 父子 夫妇 男子 女子"
)

# Markers that introduce a nickname: 张三（外号“黑三”）, 人称黑三.
ALIAS_MARKERS = _words("江湖人称 外号叫 外号 绰号 诨号 诨名 别名 又名 小名 艺名 人称 化名 网名")

# Bracketed remarks that are not nicknames: 张三（真名不详）, 李四（男）, 王五（在逃）.
ALIAS_REMARKS = _words(
    "不详 未知 不清楚 不知道 姓名 真名 男 女 岁 在逃 已故 死亡 去世 判刑 服刑 羁押 取保 户籍 住址 "
    "本村 外地 之子 之女 之妻 之夫 亲戚 朋友 同学 邻居 表弟 表哥 堂弟 堂哥 姐夫 妹夫 小舅子 连襟 情人 "
    "兄弟 姐妹 弟弟 哥哥 侄子 儿子 女儿 外甥 女婿 妻子 丈夫 父亲 母亲 等人 一伙 团伙 同伙 手下"
)

# Trailing words after a list of accused persons.
NAME_TAILS = _words("等多人 等人 等 一伙 团伙 一帮 兄弟 夫妇 父子")

# Organisation forms that end a company name. Corporate forms allow a longer name before them.
CORPORATE_SUFFIXES = _words(
    "集团股份有限公司 集团有限责任公司 集团有限公司 集团公司 股份有限公司 有限责任公司 有限公司 分公司 公司 "
    "集团 专业合作社 股份经济合作社 经济合作社 合作社 联合社"
)
SHOP_SUFFIXES = _words(
    "工作室 商行 门市部 经营部 服务部 酒店 宾馆 饭店 农家乐 砂场 沙场 石场 料场 养殖场 猪场 鸡场 渔场 "
    "农场 林场 窑场 超市 加油站 驾校 会所 茶楼 歌厅 KTV 网吧 浴池 洗浴中心 典当行 车行 商店 厂 店"
)
# "厂" followed by these is 厂长/厂房/厂区…, not the end of a factory's name.
FACTORY_NOT_FOLLOWED_BY = "长房区里内家方商矿址"
# "店" followed by these is 店里/店主/店铺… or a place name (詹店镇).
SHOP_NOT_FOLLOWED_BY = "里铺面主员长家子镇村乡门内外"

# Multi-character words and single characters after which a company name starts (the previous word is a
# verb, preposition or particle). The rightmost one in the window wins.
COMPANY_STOP_WORDS = _words(
    "经营 开设 开办 开了 开的 成立 注册 承包 承建 控制 入股 参股 名下 担任 就职 收购 组建 名为 名叫 叫做 "
    "称为 举报 投诉 反映 老板 法人 股东 经理 员工 工人 强迫 强行 要求 利用 通过 依托 借助 打着 所谓 "
    "位于 隶属 挂靠 冒充 伙同 纠集 指使 雇佣 雇用 霸占 垄断 租用 把持 操纵 入驻 进入 围堵 殴打 威胁 "
    "恐吓 阻挠 拦截 使用 购买 加入 交给 缴纳 交纳 签订 签约 合作 勾结 包庇 纵容 充当 成为 属于 之下 "
    "旗下 下属 手下 以来 期间 今年 去年 近年 多年 年初 年底 以后 之后 以前 之前 目前 现在 一直 长期 "
    "曾经 已经 还有 以及 或者 其中 包括 比如 例如 就是 就在 都在 都是 正在 开始 至今 那里 这里 里面 "
    "有个 有家 有一家 有一个 有些 注册了 成立了 开发商 承包商 供应商 经销商 代理商 分包方 承包方 发包方 施工方 建设方 甲方 乙方 对方"
)
COMPANY_STOP_CHARS = "在是被向和与的给把让叫由对从到跟及或将于以了着过去来找帮替称说要也还就又却而但即等系受为用买卖拉进他她我你"
# Words containing a stop character that do occur inside company names; matched first so they survive.
COMPANY_PROTECTED = _words(
    "向阳 向东 向前 和平 和谐 和顺 和兴 和盛 和信 和美 和泰 和润 和祥 祥和 中和 永和 太和 人和 协和 保和 "
    "惠和 同和 德和 嘉和 恒和 的士 未来 来福 系统 为民 交通 进出口 到家 及时 以诚 诚信 过桥 于家 于庄 "
    "来宾 将军 从化 用品 用具 买卖 卖场 拉链 进口 先进 前进 跟踪 对外 由之"
)
# A company name is dropped when what is left before the suffix consists only of these.
COMPANY_GENERIC = _words(
    "一辆 一所 一座 一处 一间 一栋 一片 这辆 那辆 一家 一个 这家 那家 这个 那个 几家 多家 两家 各家 该 本 此 其 各 某 他 她 他们 她们 我们 自己 自家 家里 "
    "当地 本地 附近 村里 镇上 县里 县城 市里 城里 村 镇 乡 县 市 区 省 大 小 新 老 总 母 子 分 空壳 皮包 "
    "建筑 工程 建设 劳务 运输 物流 砂石 石料 建材 商贸 贸易 实业 投资 置业 房地产 开发 地产 贷款 小额贷款 "
    "担保 典当 金融 科技 文化 传媒 农业 养殖 种植 专业 酒 砖 水泥 化工 机械 汽车 汽修 修理 服装 食品 "
    "矿业 矿产 采矿 混凝土 搅拌 搅拌站 土石方 拆迁 保安 安保 物业 管理 服务 咨询 信息 网络 电子 家具 钢材 "
    "石子 沙子 五金 木材 粮食 饲料 肥料 渔业 水产 殡葬 用品 餐饮 烧烤 饭 菜 蔬菜 水果 小卖 百货 犯罪 黑恶 涉黑 涉恶 恶势力 黑社会 团伙 势力 家族 宗族 黑 恶 "
    "一 二 三 几 多 些 工 厂 上 下 里 外 内 前 后 旁 边 对面 隔壁"
)
# A name whose core ends with one of these is a criminal group, not a registered company (…犯罪集团).
COMPANY_CRIME_TAILS = _words("犯罪 黑恶 涉黑 涉恶 恶势力 黑社会 团伙 势力 家族 宗族 黑帮")
# Leading words stripped from a company name: determiners and vague places (一家宏达物流公司).
COMPANY_LEADING = _words(
    "个 一辆 一所 一座 一处 一间 一栋 一片 这辆 那辆 一家 一个 这家 那家 这个 那个 几家 多家 两家 各家 该 本 此 其 当地 本地 附近 村里 镇上 县里 县城 "
    "市里 城里"
)
