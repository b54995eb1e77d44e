"""The retailer the data describes: countries, stores, catalogue, names, behaviour parameters.

Codes are indices into the tuples here (the contract's vocabularies, in the order the code relies
on); the asserts keep them the same sets as :mod:`lifecycle.schema`.
"""

from __future__ import annotations

import numpy as np

from lifecycle import schema

# Codes used in the arrays below (the contract's vocabularies, in the order the code relies on).
CURRENCY_CODES: tuple[str, ...] = ("USD", "EUR", "GBP", "CAD", "AUD")
CATEGORY_CODES: tuple[str, ...] = (
    "apparel", "footwear", "accessories", "beauty", "home", "electronics", "sports", "kids",
)  # fmt: skip
ACQUISITION_CODES: tuple[str, ...] = (
    "organic_search", "paid_search", "paid_social", "email", "referral", "affiliate", "store", "direct",
)  # fmt: skip
WEB_EVENT_CODES: tuple[str, ...] = ("session_start", "page_view", "product_view", "add_to_cart", "login")
EMAIL_EVENT_CODES: tuple[str, ...] = ("send", "open", "click", "unsubscribe")
PRIVACY_REQUEST_CODES: tuple[str, ...] = ("erasure", "consent_withdrawal")
assert set(CATEGORY_CODES) == set(schema.CATEGORIES)
assert set(ACQUISITION_CODES) == set(schema.ACQUISITION_CHANNELS)
assert set(WEB_EVENT_CODES) == set(schema.WEB_EVENT_TYPES)
assert set(EMAIL_EVENT_CODES) == set(schema.EMAIL_EVENT_TYPES)
assert set(PRIVACY_REQUEST_CODES) == set(schema.PRIVACY_REQUEST_TYPES)

COUNTRIES: tuple[str, ...] = ("US", "GB", "DE", "FR", "CA", "AU")
COUNTRY_P = np.array([0.42, 0.20, 0.11, 0.08, 0.11, 0.08])
COUNTRY_CURRENCY = np.array([CURRENCY_CODES.index(c) for c in ("USD", "GBP", "EUR", "EUR", "CAD", "AUD")])
COUNTRY_UTC_OFFSET_MIN = np.array([-300, 0, 60, 60, -300, 600])
COUNTRY_TAX = np.array([0.07, 0.20, 0.19, 0.20, 0.13, 0.10])
# Local price per USD of list price, standard shipping fee and free-shipping threshold (local).
CURRENCY_PRICE_FACTOR = np.array([1.0, 0.92, 0.79, 1.36, 1.52])  # USD EUR GBP CAD AUD
CURRENCY_SHIPPING_CENTS = np.array([499, 449, 399, 699, 799])
CURRENCY_FREE_SHIPPING_CENTS = np.array([5000, 4500, 4000, 7500, 8000])
CURRENCY_SYMBOL: tuple[str, ...] = ("$", "€", "£", "C$", "A$")

CITIES: dict[str, tuple[tuple[str, str], ...]] = {
    "US": (
        ("New York", "NY"),
        ("Los Angeles", "CA"),
        ("Chicago", "IL"),
        ("Houston", "TX"),
        ("Phoenix", "AZ"),
        ("Seattle", "WA"),
        ("Boston", "MA"),
        ("Atlanta", "GA"),
        ("Denver", "CO"),
        ("Miami", "FL"),
    ),
    "GB": (
        ("London", "England"),
        ("Manchester", "England"),
        ("Birmingham", "England"),
        ("Leeds", "England"),
        ("Glasgow", "Scotland"),
        ("Edinburgh", "Scotland"),
        ("Bristol", "England"),
        ("Cardiff", "Wales"),
    ),
    "DE": (
        ("Berlin", "Berlin"),
        ("Hamburg", "Hamburg"),
        ("München", "Bayern"),
        ("Köln", "Nordrhein-Westfalen"),
        ("Frankfurt am Main", "Hessen"),
        ("Stuttgart", "Baden-Württemberg"),
    ),
    "FR": (
        ("Paris", "Île-de-France"),
        ("Lyon", "Auvergne-Rhône-Alpes"),
        ("Marseille", "Provence-Alpes-Côte d'Azur"),
        ("Toulouse", "Occitanie"),
        ("Bordeaux", "Nouvelle-Aquitaine"),
        ("Lille", "Hauts-de-France"),
    ),
    "CA": (("Toronto", "ON"), ("Montréal", "QC"), ("Vancouver", "BC"), ("Calgary", "AB"), ("Ottawa", "ON")),
    "AU": (
        ("Sydney", "NSW"),
        ("Melbourne", "VIC"),
        ("Brisbane", "QLD"),
        ("Perth", "WA"),
        ("Adelaide", "SA"),
    ),
}
STORES_PER_COUNTRY = np.array([12, 6, 4, 3, 4, 3])

CATEGORY_P = np.array([0.24, 0.11, 0.12, 0.12, 0.12, 0.07, 0.11, 0.11])
CATEGORY_MEDIAN_USD = np.array([35.0, 75.0, 25.0, 18.0, 30.0, 90.0, 40.0, 20.0])
CATEGORY_COST_SHARE = np.array([0.42, 0.48, 0.35, 0.38, 0.50, 0.72, 0.50, 0.45])
CATEGORY_RETURN_RATE = np.array([0.10, 0.12, 0.04, 0.02, 0.04, 0.05, 0.05, 0.05])
SKUS_PER_CATEGORY = 400

# fmt: off
FIRST_NAMES_F: tuple[str, ...] = (
    "Emma", "Olivia", "Sophia", "Ava", "Isabella", "Mia", "Charlotte", "Amelia", "Harper", "Evelyn",
    "Abigail", "Emily", "Ella", "Grace", "Chloe", "Lily", "Hannah", "Zoe", "Nora", "Lucy", "Anna", "Sarah",
    "Laura", "Julia", "Lena", "Marie", "Léa", "Camille", "Manon", "Chloé", "Sofia", "Elena", "Maya", "Ruby",
    "Freya", "Isla", "Poppy", "Jessica", "Rachel", "Megan", "Natalie", "Priya", "Aisha", "Mei", "Yuki",
    "Fatima", "Ingrid", "Clara", "Johanna", "Amélie",
)
FIRST_NAMES_M: tuple[str, ...] = (
    "Liam", "Noah", "Oliver", "Elijah", "James", "William", "Benjamin", "Lucas", "Henry", "Alexander",
    "Jack", "Thomas", "George", "Harry", "Oscar", "Leo", "Daniel", "Matthew", "Samuel", "David", "Lukas",
    "Felix", "Paul", "Jonas", "Maximilian", "Louis", "Hugo", "Gabriel", "Arthur", "Jules", "Ethan", "Mason",
    "Logan", "Ryan", "Nathan", "Aaron", "Adam", "Omar", "Raj", "Kenji", "Mateo", "Diego", "Marco", "Luca",
    "Finn", "Callum", "Angus", "Connor", "Owen", "Michael",
)
LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White",
    "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Green",
    "Baker", "Adams", "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Evans", "Hughes", "Wood",
    "Edwards", "Turner", "Cooper", "Murphy", "Kelly", "Patel", "Khan", "Singh", "Nguyen", "Chen", "Wang",
    "Kim", "Tanaka", "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
    "Hoffmann", "Dubois", "Durand", "Lefèvre", "Moreau", "Laurent", "Simon", "Michel", "Bernard", "Petit",
    "Roux", "O'Brien", "MacDonald", "Fraser", "Tremblay", "Gagnon", "Roy", "Côté", "Bouchard",
    "Wilson-Hart", "Novak", "Rossi", "Russo", "Ferrari", "Silva", "Santos", "Costa", "Larsen", "Jensen",
    "Nielsen", "Berg", "Lindqvist",
)
# fmt: on
GENERIC_DOMAINS: tuple[str, ...] = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com")
GENERIC_DOMAIN_P = np.array([0.48, 0.14, 0.16, 0.14, 0.08])
COUNTRY_DOMAINS: tuple[tuple[str, str], ...] = (
    ("aol.com", "comcast.net"),
    ("btinternet.com", "hotmail.co.uk"),
    ("web.de", "gmx.de"),
    ("orange.fr", "free.fr"),
    ("shaw.ca", "rogers.com"),
    ("bigpond.com", "optusnet.com.au"),
)
TEST_EMAIL_DOMAINS: tuple[str, ...] = ("test.example.com", "test.shop.internal")

ONLINE, STORE, OMNI = 0, 1, 2
HABIT_P = np.array([0.45, 0.30, 0.25])
PROSPECT_SHARE = 0.25
PRE_WINDOW_SHARE = 0.30
# Acquisition channel by habit (in the order of ACQUISITION_CODES:
# organic_search, paid_search, paid_social, email, referral, affiliate, store, direct).
ACQ_P = np.array(
    [
        [0.26, 0.20, 0.15, 0.05, 0.08, 0.07, 0.00, 0.19],
        [0.06, 0.03, 0.04, 0.01, 0.05, 0.01, 0.72, 0.08],
        [0.16, 0.12, 0.10, 0.04, 0.08, 0.04, 0.32, 0.14],
    ]
)

# BG/NBD-like purchase process (rates per day) and Gamma-Gamma-like spend heterogeneity.
PURCHASE_R, PURCHASE_ALPHA = 1.2, 66.0  # λ ~ Gamma(r, scale 1/α): mean ≈ one order per 55 days
DROPOUT_A, DROPOUT_B = 1.5, 7.5  # p ~ Beta(a, b): mean ≈ 0.17
MAX_PURCHASES = 300

# Hour-of-day weights (local time) for online activity and store opening hours.
ONLINE_HOURS = np.array(
    [
        1.0,
        0.6,
        0.4,
        0.3,
        0.3,
        0.4,
        0.8,
        1.5,
        2.0,
        2.3,
        2.5,
        2.6,
        2.8,
        2.7,
        2.6,
        2.6,
        2.7,
        3.0,
        3.4,
        3.8,
        4.0,
        3.7,
        2.8,
        1.8,
    ]
)
STORE_HOURS = np.array(
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 1.5, 2.5, 3.0, 3.5, 3.2, 2.8, 2.8, 3.1, 3.5, 3.2, 2.2, 1.2, 0, 0, 0],
    dtype=float,
)

# Raw timestamp format mix per table: ('...T...Z', '... +HH:MM' local time, '...' naive UTC).
TS_FORMAT_P: dict[str, tuple[float, float, float]] = {
    "crm_customers": (0.5, 0.3, 0.2),
    "shop_orders": (0.75, 0.15, 0.10),
    "pos_transactions": (0.10, 0.75, 0.15),
    "web_events": (0.6, 0.0, 0.4),
    "email_events": (0.85, 0.05, 0.10),
    "support_tickets": (0.4, 0.4, 0.2),
    "product_reviews": (0.6, 0.2, 0.2),
    "nps_responses": (0.5, 0.3, 0.2),
    "referrals": (0.6, 0.2, 0.2),
    "store_visits": (0.10, 0.80, 0.10),
    "privacy_requests": (0.7, 0.2, 0.1),
}

SHOP_STATUS_VARIANTS: tuple[tuple[tuple[str, ...], tuple[float, ...]], ...] = (
    (("completed", "delivered", "shipped", "Completed"), (0.5, 0.3, 0.15, 0.05)),
    (("cancelled", "canceled", "Cancelled"), (0.7, 0.2, 0.1)),
    (("returned", "refunded", "Returned"), (0.7, 0.2, 0.1)),
)
POS_STATUS_VARIANTS: tuple[tuple[tuple[str, ...], tuple[float, ...]], ...] = (
    (("COMPLETE", "Complete", "complete", "COMPLETED"), (0.6, 0.2, 0.1, 0.1)),
    (("VOID", "Void", "VOIDED"), (0.7, 0.2, 0.1)),
    (("REFUNDED", "Refunded", "RETURNED"), (0.6, 0.2, 0.2)),
)
WEB_CHANNEL_VARIANTS: tuple[tuple[tuple[str, ...], tuple[float, ...]], ...] = (
    (("web", "Web", "website", "mobile-web"), (0.7, 0.1, 0.1, 0.1)),
    (("app", "ios_app", "android_app", "App"), (0.4, 0.3, 0.25, 0.05)),
)
PLATFORM_VARIANTS: tuple[tuple[tuple[str, ...], tuple[float, ...]], ...] = (
    (("web", "Web", "desktop-web", "mobile-web"), (0.6, 0.1, 0.15, 0.15)),
    (("app", "ios-app", "android-app", "iOS App"), (0.3, 0.35, 0.3, 0.05)),
)
GENDER_VARIANTS: tuple[tuple[tuple[str, ...], tuple[float, ...]], ...] = (
    (("F", "f", "Female"), (0.85, 0.05, 0.10)),
    (("M", "m", "Male"), (0.85, 0.05, 0.10)),
    (("X",), (1.0,)),
)
TICKET_CHANNELS: tuple[str, ...] = ("email", "chat", "phone", "Email", "CHAT", "web form")
TICKET_CHANNEL_P = np.array([0.38, 0.30, 0.17, 0.06, 0.04, 0.05])
TICKET_TOPICS_RETURN: tuple[str, ...] = ("return", "refund", "Return request", "exchange")
TICKET_TOPICS_OTHER: tuple[str, ...] = (
    "delivery",
    "Delivery",
    "order status",
    "payment",
    "product question",
    "account",
    "",
    "discount code",
)
PAID_CHANNELS: tuple[str, ...] = ("paid_search", "paid_social", "affiliate", "email", "referral")
PAID_CHANNEL_DAILY_USD = np.array([9000.0, 6500.0, 2500.0, 600.0, 900.0])  # at 1M customers
