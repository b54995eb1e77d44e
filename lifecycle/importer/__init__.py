"""Import retail transaction exports (CSV, TSV or whitespace-separated text) into the raw tables.

Any export with a customer, a date and either an amount or a quantity and a unit price per row
becomes a complete raw directory the dbt project builds on. The rules, in one place:

Rows and orders
* One input row is one order line (``shop_order_lines``). With ``--order-id-col`` the rows
  sharing an order id are the lines of one order (an id used by several customers gives one order
  per customer and id); without it one order per customer and calendar day (split per currency if
  the customer paid in several that day).
* Line amount = quantity x unit price. ``--amount-col`` gives quantity 1 (or -1 for a negative
  amount) and unit price |amount|; ``--quantity-col`` + ``--unit-price-col`` give the signed whole
  quantity and |unit price|; a negative unit price (e.g. a bad-debt adjustment) negates the
  quantity. A negative quantity is a credit line: a cancellation or return, as its own line or a
  separate credit invoice (e.g. ids prefixed 'C'); the warehouse nets it against revenue.
* ``--status-col``: each row's status word maps to completed / cancelled / returned
  (:data:`rules.STATUS_WORDS`, extended by ``--status-map 'word=status,...'``). An order is
  cancelled if all its rows are, returned if all are cancelled or returned, else completed; a
  cancelled or returned row inside a completed order has ``returned_quantity`` = its quantity.
  What counts as a purchase occasion (net spend of the day > 0, or a zero-priced purchase with
  nothing cancelled) is decided in the warehouse, from these lines.

Anonymous sales
* A row whose customer is empty or a placeholder (:data:`rules.ANONYMOUS_VALUES`, plus
  ``--anonymous-values``; case-insensitive, '0.0' and '000' count as '0') is a guest sale: an order
  with an empty customer id (one per order id, or one per row without order ids), counted in
  revenue, in no customer.

Rejected rows (never stop the import unless ``--strict``)
* One reason per row, the first that applies (:data:`rules.REJECT_REASONS`): missing_key (empty
  order id), unparseable_timestamp, future_timestamp (after ``--loaded-at``, default now, UTC),
  invalid_quantity (zero, not whole, beyond int32), invalid_amount, amount_out_of_range (|unit
  price| or |line amount| >= 1e16, beyond decimal(18, 2)), unknown_status, mixed_currency (rows of
  one order id in different currencies: all its rows). They go to ``import_rejects`` (reaching
  ``quarantined_rows``) and ``<out>/_rejects.csv``; the detail names the column and value, never a
  customer id. More than half the rows failing on one column stops the import: the column or
  ``--date-format`` is wrong, not the rows.

Files
* Inputs are files, globs or folders (every *.csv, *.txt, *.tsv), read in sorted order and
  concatenated. UTF-8 by default; UTF-16/32 are detected (byte-order mark or NUL pattern); other
  encodings need ``--encoding`` (the likely one is named). Binary files, duplicate column names, a
  delimiter that yields one column (the likely one is suggested) are refused in one line.
* Dates: ISO 8601 without ``--date-format``; day/month dates (03/04/2011) are refused without a
  format, naming the format the data implies; ``--date-format mixed`` is refused.
* Ids written as floats ('12923.0') or with and without leading zeros are warned about;
  ``--normalise-ids`` strips the '.0' and the leading zeros of customer and order ids.
* Currency: ``--currency`` (any ISO code, default USD) or ``--currency-col``; the warehouse
  quarantines codes without a rate in seeds/fx_rates.csv.
* Consent: ``--consent-col`` (the latest row's value per customer) or ``--marketing-consent
  all|none`` (default none: the report says audiences will be empty).
* ``crm_customers`` has one row per customer: email a non-deliverable placeholder
  '<id>@import.invalid', signup_at the first purchase. Every other raw table is written empty.
* Every row's ``_loaded_at`` is ``--loaded-at``; the output is byte-for-byte the same for the same
  inputs and ``--loaded-at``. The report (stdout and ``_import_report.json``) gives rows read =
  imported + rejected, anonymous rows by value, rejects by reason, customers, orders, credit lines,
  currencies, consent and warnings.
"""

from lifecycle.importer.rules import ImportError_
from lifecycle.importer.run import import_transactions

__all__ = ["ImportError_", "import_transactions"]
