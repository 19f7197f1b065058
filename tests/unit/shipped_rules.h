/* The rule ids of the shipped policy (the files in rules/), for the unit tests
 * that check every shipped rule (test_rules.c, test_rules_eval.c,
 * test_clear.c), and the household they start from. */
#pragma once

static const char *const shipped[] = {
    "income_below_line",
    "income_cut_by_disaster",
    "income_near_line",
    "rigid_expenditure_illness",
    "rigid_expenditure_disability",
    "rigid_expenditure_education",
    "major_disease_claim",
    "disaster_severe",
    "disaster_damage",
    "accident_labor",
    "open_need",
    "urgent_need",
    "visit_guarantee_risk",
    "special_members",
    "gradual_exit",
};

/* 3 members, 36000 yuan last year (12000 per person, the watch line). */
static const char base_doc[] =
    "{\"registered\": true, \"removed\": false,"
    " \"profile\": {\"town\": \"温溪镇\", \"village\": \"东岸村\", \"status\": \"low_income\","
    "  \"income_last_year\": {\"year\": 2025, \"disposable\": 3600000},"
    "  \"members\": ["
    "   {\"id\": \"m1\", \"labor\": \"full\", \"birth_year\": 1975, \"disability_grade\": 0,"
    "    \"serious_illness\": false, \"incapacitated\": false, \"student\": false},"
    "   {\"id\": \"m2\", \"labor\": \"partial\", \"disability_grade\": 0,"
    "    \"serious_illness\": false, \"incapacitated\": false, \"student\": false},"
    "   {\"id\": \"m3\", \"labor\": \"none\", \"disability_grade\": 0,"
    "    \"serious_illness\": false, \"incapacitated\": false, \"student\": true}]}}";
