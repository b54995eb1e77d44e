"""What every chunk shares: the seasonal calendar, the catalogue, the campaigns, cities and stores."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from lifecycle.generate.arrays import money_strings
from lifecycle.generate.retailer import (
    CATEGORY_CODES,
    CATEGORY_COST_SHARE,
    CATEGORY_MEDIAN_USD,
    CITIES,
    COUNTRIES,
    CURRENCY_PRICE_FACTOR,
    SKUS_PER_CATEGORY,
    STORES_PER_COUNTRY,
)
from lifecycle.generate.scales import DAY, EPOCH, HORIZON_DATE, N_DAYS, START_DATE, DirtyRates
from lifecycle.generate.streams import SHARED, Rng, choice, stream


def black_friday(year: int) -> dt.date:
    nov1 = dt.date(year, 11, 1)
    first_thursday = nov1 + dt.timedelta(days=(3 - nov1.weekday()) % 7)
    return first_thursday + dt.timedelta(days=22)


@dataclass(frozen=True)
class Calendar:
    season: np.ndarray  # daily purchase-intensity multiplier, mean 1
    cum: np.ndarray  # cumulative intensity at day boundaries (N_DAYS + 1)
    acquisition: np.ndarray  # daily signup weights (sum 1)
    promo: np.ndarray  # bool: Black Friday week and after-Christmas sales
    month: np.ndarray  # month of each day (1-12)

    @staticmethod
    def build() -> Calendar:
        days = np.arange(N_DAYS)
        dates = np.datetime64(START_DATE.isoformat()) + days
        month = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
        weekday = (dates.astype(np.int64) - 4) % 7  # 0 = Monday
        s = np.ones(N_DAYS)
        promo = np.zeros(N_DAYS, dtype=bool)
        for year in range(START_DATE.year, HORIZON_DATE.year + 1):

            def offset(d: dt.date) -> np.ndarray:
                return days - (d - START_DATE).days

            bf = black_friday(year)
            s += 0.9 * np.exp(-0.5 * (offset(dt.date(year, 12, 12)) / 13.0) ** 2)
            s += 1.3 * np.exp(-0.5 * (offset(bf) / 2.5) ** 2)
            s += 0.25 * np.exp(-0.5 * (offset(dt.date(year, 7, 5)) / 18.0) ** 2)
            promo |= (offset(bf) >= -3) & (offset(bf) <= 4)
            promo |= (offset(dt.date(year, 12, 26)) >= 0) & (offset(dt.date(year, 12, 31)) <= 0)
            xmas = offset(dt.date(year, 12, 25)) == 0
            s[xmas] *= 0.3
            s[offset(dt.date(year, 12, 26)) == 0] *= 1.6
        s *= np.where(np.isin(month, (1, 2)), 0.82, 1.0)
        s *= np.where(weekday >= 5, 1.12, 1.0)
        s /= s.mean()
        cum = np.concatenate([[0.0], np.cumsum(s)])
        acq = s * (1.0 + 0.25 * days / 365.0)
        return Calendar(s, cum, acq / acq.sum(), promo, month)

    def to_intensity(self, t_days: np.ndarray) -> np.ndarray:
        return np.interp(t_days, np.arange(N_DAYS + 1), self.cum)

    def from_intensity(self, tau: np.ndarray) -> np.ndarray:
        return np.interp(tau, self.cum, np.arange(N_DAYS + 1))

    def days_from(self, rng: Rng, first_day: int, n: int) -> np.ndarray:
        """n days from first_day on, drawn with the seasonal intensity (walk-ins, visitors, guests)."""
        return first_day + choice(rng, n, self.season[first_day:])


@dataclass(frozen=True)
class Catalogue:
    sku: pa.Array  # 'SKU-apparel-0123' per global sku index
    price_cents: np.ndarray  # (currency, sku) local list price
    price_str: pa.Array  # price strings, flattened currency-major
    cost: np.ndarray  # (currency, sku) local unit cost, NaN when unknown

    @staticmethod
    def build(rng: Rng) -> Catalogue:
        n_cat = len(CATEGORY_CODES)
        names = [f"SKU-{c}-{i:04d}" for c in CATEGORY_CODES for i in range(SKUS_PER_CATEGORY)]
        usd = np.sort(
            CATEGORY_MEDIAN_USD[:, None] * np.exp(rng.normal(0.0, 0.65, (n_cat, SKUS_PER_CATEGORY))), axis=1
        ).ravel()
        local = usd[None, :] * CURRENCY_PRICE_FACTOR[:, None]
        cents = np.where(local < 10, np.floor(local) * 100 + 99, np.round(local) * 100 - 1).astype(np.int64)
        share = np.repeat(CATEGORY_COST_SHARE, SKUS_PER_CATEGORY) * np.exp(rng.normal(0, 0.12, usd.size))
        cost = np.round(cents / 100.0 * np.minimum(share, 0.95)[None, :], 2)
        unknown = rng.random(usd.size) < 0.04  # cost missing in the product master
        cost[:, unknown] = np.nan
        return Catalogue(pa.array(names), cents, money_strings(cents.ravel()), cost)


def campaign_times() -> tuple[np.ndarray, pa.Array]:
    """Weekly Tuesday newsletters plus Friday promotions from mid-November to Christmas."""
    times: list[int] = []
    d = START_DATE
    while d <= HORIZON_DATE:
        holiday = (d.month == 11 and d.day >= 14) or (d.month == 12 and d.day <= 22)
        if d.weekday() == 1 or (d.weekday() == 4 and holiday):
            times.append((d - EPOCH).days * DAY + 14 * 3600)
        d += dt.timedelta(days=1)
    t = np.array(times, dtype=np.int64)
    ids = [f"CMP-{dt.datetime.fromtimestamp(int(x), dt.UTC):%Y%m%d}" for x in t]
    return t, pa.array(ids)


@dataclass(frozen=True)
class Context:
    seed: int
    dirty: DirtyRates
    calendar: Calendar
    catalogue: Catalogue
    campaign_s: np.ndarray
    campaign_ids: pa.Array
    city_names: pa.Array
    city_regions: pa.Array
    city_start: np.ndarray
    city_count: np.ndarray
    store_ids: pa.Array
    store_start: np.ndarray
    store_country: np.ndarray

    @staticmethod
    def build(seed: int, dirty: DirtyRates) -> Context:
        names: list[str] = []
        regions: list[str] = []
        start: list[int] = []
        for code in COUNTRIES:
            start.append(len(names))
            names.extend(c for c, _ in CITIES[code])
            regions.extend(r for _, r in CITIES[code])
        store_ids: list[str] = []
        store_country: list[int] = []
        for k, code in enumerate(COUNTRIES):
            for i in range(int(STORES_PER_COUNTRY[k])):
                store_ids.append(f"ST-{code}-{i + 1:03d}")
                store_country.append(k)
        camp_s, camp_ids = campaign_times()
        return Context(
            seed=seed,
            dirty=dirty,
            calendar=Calendar.build(),
            catalogue=Catalogue.build(stream(seed, SHARED, 0)),
            campaign_s=camp_s,
            campaign_ids=camp_ids,
            city_names=pa.array(names),
            city_regions=pa.array(regions),
            city_start=np.array(start),
            city_count=np.array([len(CITIES[c]) for c in COUNTRIES]),
            store_ids=pa.array(store_ids),
            store_start=np.concatenate([[0], np.cumsum(STORES_PER_COUNTRY)[:-1]]),
            store_country=np.array(store_country),
        )
