"""Demo volunteers with valid, obviously fake identities (issue 3 point 7).

Names are 示例志愿者001…; ID numbers use real Guangzhou region codes, real dates and a correct
GB 11643 check digit (computed with python-stdnum), so they pass every validation (IV1, IV3) while
the names and the remark say they are not real people; phones are 1380000xxxx. Some volunteers are
Party members, probationary members or activists, each with the separate sensitive-data consent
(PR3) and, for members, the pledge (R-REG-6). The rows go through the bulk import path, like a
community's spreadsheet would.
"""
from __future__ import annotations

from stdnum.cn import ric

DEMO_COUNT = 300
NAME_PREFIX = "示例志愿者"
DEMO_REMARK = "演示数据：虚构人物，非真实身份"

# real county-level codes of Guangzhou (GB/T 2260) with their district
REGIONS = [("440104", "越秀区"), ("440105", "海珠区"), ("440106", "天河区"), ("440103", "荔湾区"),
           ("440111", "白云区"), ("440112", "黄埔区"), ("440113", "番禺区")]
SPECIALTIES = ["摄影", "急救", "法律咨询", "心理疏导", "文艺表演", "电脑维修", "家政服务", "书法", "外语",
               "理发"]
EDUCATION = ["高中/中专", "大专", "本科", "本科", "硕士研究生"]
DATES = 48 * 12 * 28  # birth dates used: 1956-01-01 … 2003-12-28 (days 1–28 of each month)


def fake_id_number(i: int) -> tuple[str, str]:
    """(ID number, district) of the i-th fake person: distinct for every i below 2,016,000
    (i ↦ (37·i mod 16128, i mod 1000) is one-to-one there), all born 1956–2003, so all adults."""
    d = (i * 37) % DATES
    year, month, day = 1956 + d // 336, 1 + (d // 28) % 12, 1 + d % 28
    region, district = REGIONS[i % len(REGIONS)]
    body = f"{region}{year:04d}{month:02d}{day:02d}{i % 1000:03d}"
    return body + ric.calc_check_digit(body + "0"), district


def fake_phone(i: int) -> str:
    return f"138{i % 10 ** 8:08d}"


def demo_record(i: int) -> dict:
    """The i-th demo volunteer as import fields (1-based)."""
    idn, district = fake_id_number(i)
    rec = {"name": f"{NAME_PREFIX}{i:03d}", "id_type": "cn_id", "id_number": idn, "phone": fake_phone(i),
           "district": district, "address": f"{district}示例路{i}号", "employer": "示例单位",
           "education": EDUCATION[i % len(EDUCATION)],
           "specialties": SPECIALTIES[i % len(SPECIALTIES)], "service_intention": "社区服务",
           "remarks": DEMO_REMARK}
    if i % 10 == 0:
        rec.update(political_status="中共党员", sensitive_consent=True, pledge=True)
    elif i % 25 == 3:
        rec.update(political_status="中共预备党员", sensitive_consent=True, pledge=True)
    elif i % 15 == 7:
        rec.update(political_status="入党积极分子", sensitive_consent=True)
    elif i % 40 == 11:
        rec.update(political_status="发展对象", sensitive_consent=True)
    return rec


def load(count: int = DEMO_COUNT):
    from .import_ import import_records
    result = import_records((demo_record(i) for i in range(1, count + 1)), actor_name="demo",
                            source="demo", batch_size=500)
    if result.stopped_at is not None or result.count("skipped"):
        bad = [f"{o.row}: {o.message}" for o in result.rows if o.status in ("skipped", "stopped")][:5]
        raise RuntimeError(f"demo volunteers failed: {result.error or '; '.join(bad)}")
    return result
