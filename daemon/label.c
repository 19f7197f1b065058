#include "label.h"

#include <string.h>
#include "macro.h"

/* clang-format off */
static const Label labels[] = {
    {"household_size", "家庭人口", "household size", "人", "", 0, true, NULL, NULL, NULL, NULL},
    {"status", "家庭类别", "status", "", "", 0, false, NULL, NULL, NULL, NULL},
    {"town", "乡镇", "town", "", "", 0, false, NULL, NULL, NULL, NULL},
    {"village", "村", "village", "", "", 0, false, NULL, NULL, NULL, NULL},
    {"registered", "已登记", "registered", "", "", 0, false, NULL, NULL, NULL, NULL},
    {"removed", "已退出监测", "removed", "", "", 0, false, NULL, NULL, NULL, NULL},
    {"income_last_year", "登记的上年家庭收入", "the register's last-year household income",
     "元", " yuan", 1, false, NULL, NULL, NULL, NULL},
    {"income_last_year_year", "登记收入年份", "the register's income year", "", "", 0, true,
     NULL, NULL, NULL, NULL},
    {"income_verified", "核定家庭收入", "the verified household income", "元", " yuan", 1,
     false, NULL, NULL, NULL, NULL},
    {"income_verified_year", "核定收入年份", "the verified income year", "", "", 0, true, NULL,
     NULL, NULL, NULL},
    {"income", "家庭年收入", "the household's yearly income", "元", " yuan", 1, false, NULL,
     NULL, NULL, NULL},
    {"income_year", "收入年份", "the income year", "", "", 0, true, NULL, NULL, NULL, NULL},
    {"prior_income", "上年家庭可支配收入", "last year's household disposable income", "元",
     " yuan", 1, false, NULL, NULL, NULL, NULL},
    {"prior_income_year", "上年收入年份", "the year of last year's income", "", "", 0, true,
     NULL, NULL, NULL, NULL},
    {"medical_12m", "近12个月医疗自付", "medical out of pocket over 12 months", "元", " yuan",
     -1, false, "illness_12m", NULL, NULL, NULL},
    {"fund_paid_12m", "近12个月医保基金支付", "insurance fund payments over 12 months", "元",
     " yuan", 0, false, NULL, NULL, NULL, NULL},
    {"education_12m", "近12个月教育支出", "education costs over 12 months", "元", " yuan", -1,
     false, "rigid_12m", NULL, NULL, NULL},
    {"disability_12m", "近12个月残疾相关支出", "disability costs over 12 months", "元",
     " yuan", -1, false, "rigid_12m", NULL, NULL, NULL},
    {"other_expense_12m", "近12个月其他支出", "other expenses over 12 months", "元", " yuan",
     -1, false, NULL, NULL, NULL, NULL},
    {"illness_12m", "近12个月疾病支出", "illness costs over 12 months", "元", " yuan", -1,
     false, "rigid_12m", NULL, NULL, NULL},
    {"rigid_12m", "近12个月刚性支出", "rigid expenditure over 12 months", "元", " yuan", -1,
     false, NULL, NULL, NULL, NULL},
    {"major_disease_12m", "近365天大病自付", "major-disease out of pocket over 365 days", "元",
     " yuan", -1, false, NULL, NULL, NULL, NULL},
    {"disaster_loss_12m", "近12个月因灾减收", "income lost to disasters over 12 months", "元",
     " yuan", -1, false, "income_loss_12m", NULL, NULL, NULL},
    {"accident_loss_12m", "近12个月因意外减收", "income lost to accidents over 12 months",
     "元", " yuan", -1, false, "income_loss_12m", NULL, NULL, NULL},
    {"income_loss_12m", "近12个月因灾因意外减收",
     "income lost to disasters and accidents over 12 months", "元", " yuan", -1, false, NULL,
     NULL, NULL, NULL},
    {"property_loss_12m", "近12个月财产损失", "property lost over 12 months", "元", " yuan",
     -1, false, NULL, NULL, NULL, NULL},
    {"accident_medical_12m", "近12个月意外医疗费用", "accident medical costs over 12 months",
     "元", " yuan", -1, false, "illness_12m", NULL, NULL, NULL},
    {"relief_12m", "近12个月救助金", "relief paid over 12 months", "元", " yuan", 1, false,
     NULL, NULL, NULL, NULL},
    {"minimum_living", "低保", "minimum living allowance", "", "", 0, false, NULL, NULL, NULL,
     NULL},
    {"marginal", "低保边缘", "marginal support", "", "", 0, false, NULL, NULL, NULL, NULL},
    {"extreme_poverty", "特困", "extreme-poverty support", "", "", 0, false, NULL, NULL, NULL,
     NULL},
    {"in_gradual_exit", "救助渐退期", "the gradual exit period", "", "", -1, false, NULL, NULL,
     NULL, "gradual_exit_until"},
    {"gradual_exit_until", "渐退期截止日", "the end of the gradual exit period", "", "", 0,
     false, NULL, NULL, NULL, NULL},
    {"open_needs", "未解决诉求", "open needs", "项", "", -1, true, NULL, NULL, NULL, NULL},
    {"urgent_needs", "未解决紧急诉求", "open urgent needs", "项", "", -1, true, "open_needs",
     NULL, NULL, NULL},
    {"last_visit.date", "走访日期", "the date of the latest visit", "", "", 0, false, NULL,
     NULL, NULL, NULL},
    {"last_visit.food_clothing", "再次走访的吃穿检查", "a later visit's food and clothing check",
     "", "", 0, false, "last_visit.risk_count", "ok|risk", "risk", NULL},
    {"last_visit.education", "再次走访的义务教育检查", "a later visit's education check", "",
     "", 0, false, "last_visit.risk_count", "ok|risk", "risk", NULL},
    {"last_visit.medical", "再次走访的基本医疗检查", "a later visit's medical care check", "",
     "", 0, false, "last_visit.risk_count", "ok|risk", "risk", NULL},
    {"last_visit.housing", "再次走访的住房安全检查", "a later visit's housing check", "", "",
     0, false, "last_visit.risk_count", "ok|risk", "risk", NULL},
    {"last_visit.drinking_water", "再次走访的饮水安全检查",
     "a later visit's drinking water check", "", "", 0, false, "last_visit.risk_count",
     "ok|risk", "risk", NULL},
    {"last_visit.risk_count", "走访发现的风险项", "checks the latest visit found at risk", "项",
     "", -1, true, NULL, NULL, NULL, NULL},
    {"monitor_factor", "监测系数", "the monitor factor", "", "", 0, false, NULL, NULL, NULL,
     NULL},
};

/* Collections: the noun of a row; fields: a short label. */
static const LabelColl coll_labels[] = {
    {"members", "成员", "member", "members"},
    {"needs", "诉求", "need", "needs"},
    {"disasters", "灾害", "disaster", "disasters"},
    {"accidents", "意外", "accident", "accidents"},
    {"claims", "医保结算", "claim", "claims"},
};

static const LabelField field_labels[] = {
    {"members.labor", "劳动能力", "labour", false},
    {"members.disability_grade", "残疾等级", "disability grade", false},
    {"members.serious_illness", "重病", "seriously ill", false},
    {"members.incapacitated", "失能", "incapacitated", false},
    {"members.student", "在校", "in school", false},
    {"members.birth_year", "出生年份", "born", false},
    {"members.age", "年龄", "age", false},
    {"needs.category", "类别", "category", false},
    {"needs.channel", "渠道", "channel", false},
    {"needs.urgent", "紧急", "urgent", false},
    {"needs.reported_on", "报告日期", "reported on", false},
    {"disasters.date", "日期", "date", false},
    {"disasters.disaster", "灾种", "kind", false},
    {"disasters.house_damage", "房屋损坏", "house damage", false},
    {"disasters.deaths", "死亡人数", "dead", false},
    {"disasters.injured", "受伤人数", "injured", false},
    {"disasters.income_loss", "收入损失", "income loss", true},
    {"disasters.property_loss", "财产损失", "property loss", true},
    {"accidents.date", "日期", "date", false},
    {"accidents.kind", "类型", "kind", false},
    {"accidents.labor_lost", "丧失劳动能力", "labour lost", false},
    {"accidents.income_loss", "收入损失", "income loss", true},
    {"accidents.medical_cost", "医疗费用", "medical costs", true},
    {"accidents.member_labor", "原劳动能力", "the member's labour", false},
    {"claims.date", "日期", "date", false},
    {"claims.kind", "类型", "kind", false},
    {"claims.major_disease", "大病", "major disease", false},
    {"claims.out_of_pocket", "个人自付", "out of pocket", true},
    {"claims.total", "总额", "total", true},
};
/* clang-format on */

const Label *label_var(const char *name)
{
        for (size_t i = 0; name && i < ELEMENTSOF(labels); i++)
                if (streq(labels[i].name, name))
                        return &labels[i];
        return NULL;
}

const LabelColl *label_coll(const char *name)
{
        for (size_t i = 0; name && i < ELEMENTSOF(coll_labels); i++)
                if (streq(coll_labels[i].name, name))
                        return &coll_labels[i];
        return NULL;
}

const LabelField *label_field(const char *coll, const char *f)
{
        const char *dot = f ? strchr(f, '.') : NULL;
        if (!coll || !dot)
                return NULL;
        size_t cl = strlen(coll);
        for (size_t i = 0; i < ELEMENTSOF(field_labels); i++) {
                const char *n = field_labels[i].name;
                if (strncmp(n, coll, cl) == 0 && n[cl] == '.' && streq(n + cl + 1, dot + 1))
                        return &field_labels[i];
        }
        return NULL;
}

bool label_exists(const char *name)
{
        if (label_var(name))
                return true;
        for (size_t i = 0; name && i < ELEMENTSOF(field_labels); i++)
                if (streq(field_labels[i].name, name))
                        return true;
        return false;
}

/* The values domains list, as static strings an option can keep. */
static const char *const domain_values[] = {"ok", "risk"};

const char *label_domain_value(const Label *l, size_t k)
{
        const char *p = l ? l->domain : NULL;
        for (size_t i = 0; p && i < k; i++) {
                p = strchr(p, '|');
                p = p ? p + 1 : NULL;
        }
        if (!p)
                return NULL;
        size_t n = strcspn(p, "|");
        for (size_t i = 0; i < ELEMENTSOF(domain_values); i++)
                if (strlen(domain_values[i]) == n && strncmp(domain_values[i], p, n) == 0)
                        return domain_values[i];
        return NULL;
}
