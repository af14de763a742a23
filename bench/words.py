"""Seed vocabularies for the benchmark corpus: plain public-service words in each language and script.

The generator strings these into sentences. The text is not meant to read well; it is meant to have the
length, scripts, punctuation and Markdown structure (headings, lists, quotes) of real releases.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Vocabulary:
    words: tuple[str, ...]
    names: tuple[str, ...]  # people quoted in releases
    said: str  # "{quote}," said {name}.  — how a quote is attributed
    separator: str  # between words (Chinese has none)
    comma: str
    full_stop: str
    open_quote: str
    close_quote: str
    dateline: str
    place: str  # an event's place


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split())


VOCABULARIES: dict[str, Vocabulary] = {
    "en": Vocabulary(
        words=_split(
            "state city residents families workers program funding million new public service services "
            "health care clinic vaccine road bridge transit bus train license office department county "
            "community schools students jobs training housing safety police fire emergency plan budget "
            "grant support small business online application form wait time people children seniors "
            "veterans access language accessible website phone hours open season winter summer water "
            "energy clean air park library neighborhood repair construction project investment local "
            "agency staff report data results year month week today launch expand announce improve "
            "reduce help protect provide offer available free apply renew visit call learn more"
        ),
        names=("Governor Kathy Hochul", "Commissioner Maria Lopez", "Director James Chen", "Mayor Ana Ruiz"),
        said="said",
        separator=" ",
        comma=",",
        full_stop=".",
        open_quote="\u201c",
        close_quote="\u201d",
        dateline="ALBANY, N.Y.",
        place="Red Room, State Capitol",
    ),
    "es": Vocabulary(
        words=_split(
            "estado ciudad residentes familias trabajadores programa fondos millones nuevo público "
            "servicio servicios salud atención clínica vacuna carretera puente transporte autobús tren "
            "licencia oficina departamento condado comunidad escuelas estudiantes empleos formación "
            "vivienda seguridad policía bomberos emergencia plan presupuesto subvención apoyo pequeñas "
            "empresas en línea solicitud formulario espera personas niños mayores veteranos acceso idioma "
            "accesible sitio teléfono horario abierto invierno verano agua energía aire limpio parque "
            "biblioteca barrio obras proyecto inversión local agencia personal informe datos resultados "
            "año mes semana hoy lanzar ampliar anunciar mejorar reducir ayudar proteger ofrecer gratis"
        ),
        names=("la gobernadora Kathy Hochul", "la comisionada María López", "el director James Chen"),
        said="dijo",
        separator=" ",
        comma=",",
        full_stop=".",
        open_quote="\u00ab",
        close_quote="\u00bb",
        dateline="ALBANY, Nueva York",
        place="Salón Rojo, Capitolio del Estado",
    ),
    "ru": Vocabulary(
        words=_split(
            "штат город жители семьи работники программа финансирование миллионов новый общественный "
            "услуга услуги здравоохранение помощь клиника вакцина дорога мост транспорт автобус поезд "
            "лицензия управление департамент округ община школы студенты работа обучение жильё "
            "безопасность полиция пожарные экстренный план бюджет грант поддержка малый бизнес онлайн "
            "заявление форма ожидание люди дети пожилые ветераны доступ язык доступный сайт телефон часы "
            "открыт зима лето вода энергия чистый воздух парк библиотека район ремонт строительство "
            "проект инвестиции местный агентство сотрудники отчёт данные результаты год месяц неделя "
            "сегодня запуск расширить объявить улучшить сократить помочь защитить предложить бесплатно"
        ),
        names=("губернатор Кэти Хокул", "комиссар Мария Лопес", "директор Джеймс Чен"),
        said="сказал(а)",
        separator=" ",
        comma=",",
        full_stop=".",
        open_quote="\u00ab",
        close_quote="\u00bb",
        dateline="ОЛБАНИ, штат Нью-Йорк",
        place="Красный зал, Капитолий штата",
    ),
    "zh": Vocabulary(
        words=_split(
            "本州 城市 居民 家庭 劳动者 项目 资金 百万 新的 公共 服务 卫生 医疗 诊所 疫苗 道路 桥梁 交通 "
            "公交 火车 执照 办公室 部门 县 社区 学校 学生 就业 培训 住房 安全 警察 消防 紧急 计划 预算 "
            "补助 支持 小企业 网上 申请 表格 等候 时间 儿童 老年人 退伍军人 语言 无障碍 网站 电话 开放 "
            "冬季 夏季 饮用水 能源 清洁 空气 公园 图书馆 街区 维修 建设 投资 地方 机构 工作人员 报告 数据 "
            "结果 今年 本月 本周 今天 启动 扩大 宣布 改善 减少 帮助 保护 提供 免费 办理 续期 了解"
        ),
        names=("州长凯西·霍楚尔", "专员玛丽亚·洛佩斯", "主任陈詹姆斯"),
        said="表示",
        separator="",
        comma="，",
        full_stop="。",
        open_quote="\u201c",
        close_quote="\u201d",
        dateline="纽约州奥尔巴尼",
        place="州议会大厦红厅",
    ),
    "ar": Vocabulary(
        words=_split(
            "الولاية المدينة السكان الأسر العمال برنامج تمويل مليون جديد عام خدمة الخدمات الصحة الرعاية "
            "عيادة لقاح طريق جسر النقل حافلة قطار رخصة مكتب إدارة المقاطعة المجتمع المدارس الطلاب "
            "الوظائف التدريب السكن السلامة الشرطة الإطفاء الطوارئ خطة الميزانية منحة دعم الشركات "
            "الصغيرة عبر الإنترنت طلب استمارة الانتظار الوقت الناس الأطفال كبار السن المحاربين الوصول "
            "اللغة موقع الهاتف ساعات مفتوح الشتاء الصيف المياه الطاقة الهواء النظيف حديقة مكتبة الحي "
            "إصلاح البناء مشروع استثمار محلي الوكالة الموظفون تقرير البيانات النتائج العام الشهر "
            "الأسبوع اليوم إطلاق توسيع إعلان تحسين تقليل مساعدة حماية تقديم مجاني"
        ),
        names=("الحاكمة كاثي هوكول", "المفوضة ماريا لوبيز", "المدير جيمس تشين"),
        said="قالت",
        separator=" ",
        comma="،",
        full_stop=".",
        open_quote="\u00ab",
        close_quote="\u00bb",
        dateline="ألباني، نيويورك",
        place="القاعة الحمراء، مبنى الكابيتول",
    ),
    "ht": Vocabulary(
        words=_split(
            "eta vil rezidan fanmi travayè pwogram lajan milyon nouvo piblik sèvis sante swen klinik vaksen "
            "wout pon transpò bis tren lisans biwo depatman konte kominote lekòl elèv travay fòmasyon lojman "
            "sekirite polis ponpye ijans plan bidjè sibvansyon sipò ti biznis sou entènèt aplikasyon fòm "
            "tann tan moun timoun granmoun veteran aksè lang aksesib sit telefòn lè louvri sezon ivè ete dlo "
            "enèji lè pwòp pak bibliyotèk katye reparasyon konstriksyon pwojè envestisman lokal ajans "
            "anplwaye rapò done rezilta ane mwa semèn jodi a lanse elaji anonse amelyore redwi ede pwoteje "
            "bay ofri gratis aplike renouvle vizite rele aprann plis"
        ),
        names=("Gouvènè Kathy Hochul", "Komisyonè Maria Lopez", "Direktè James Chen"),
        said="te di",
        separator=" ",
        comma=",",
        full_stop=".",
        open_quote="\u201c",
        close_quote="\u201d",
        dateline="ALBANY, New York",
        place="Sal Wouj, Kapitòl Eta a",
    ),
}
