"""The shared vocabularies: service codes, genders, languages and levels of care.

Safe houses, households and youth all speak these codes, so a youth's required services can be
checked against what a bed or a home offers. Stored as text in the database and checked at the
API edge, so adding a code is a change here, not a migration.
"""

from __future__ import annotations

from typing import Final, Literal

SERVICES: Final[dict[str, str]] = {
    "trauma_therapy": "Trauma-focused therapy (e.g. TF-CBT) on site or arranged",
    "mental_health": "Psychiatric assessment and mental-health care",
    "substance_use": "Substance-use treatment and recovery support",
    "medical": "Medical care, including sexual and reproductive health",
    "education": "Schooling or tutoring that keeps the youth enrolled",
    "legal_advocacy": "Victim-witness and legal advocacy, immigration relief",
    "survivor_mentor": "Peer mentoring by survivors of exploitation",
    "lgbtq_affirming": "LGBTQ+ affirming care",
    "pregnant_parenting": "Support for pregnant and parenting youth",
    "interpreter": "Interpreter services",
    "secure_setting": "Staff-secure setting with 24-hour supervision",
    "life_skills": "Life skills and transition to adulthood",
}

GENDERS: Final[tuple[str, ...]] = ("female", "male", "nonbinary")
Gender = Literal["female", "male", "nonbinary"]

LANGUAGES: Final[dict[str, str]] = {
    "en": "English",
    "es": "Spanish",
    "pt": "Portuguese",
    "ht": "Haitian Creole",
    "zh": "Chinese",
    "vi": "Vietnamese",
    "km": "Khmer",
    "ar": "Arabic",
    "fr": "French",
    "ru": "Russian",
}

CARE_LEVELS: Final[tuple[str, ...]] = ("standard", "trafficking_specialized")
CareLevel = Literal["standard", "trafficking_specialized"]
