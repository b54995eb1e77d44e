"""Write models/staging/<source>/_<source>__sources.yml from lifecycle/schema.py.

Run after changing the landing contract: `python scripts/write_sources_yml.py`. A pytest checks
that the committed files match the contract, so the two cannot drift apart.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from lifecycle.schema import RAW_TABLES

ROOT = Path(__file__).resolve().parent.parent
ARROW_TO_SQL = {"string": "varchar", "int32": "integer", "double": "double", "bool": "boolean",
                "timestamp[us]": "timestamp"}
SOURCE_DESCRIPTIONS = {
    "crm": "The CRM: customer master records and data-subject (privacy) requests.",
    "shop": "The e-commerce platform behind the web shop and the mobile app.",
    "pos": "The stores' point-of-sale system and loyalty-card scans.",
    "web": "Web and app clickstream from the behavioural analytics tracker.",
    "esp": "The email service provider's campaign events.",
    "helpdesk": "The customer-support help desk.",
    "feedback": "Product reviews, NPS surveys and the refer-a-friend programme.",
    "marketing": "Marketing spend exported from the ad platforms.",
    "import": "Rows `lifecycle import-transactions` could not use, with the reason (empty for other sources).",
}


def render() -> dict[str, str]:
    by_source: dict[str, list] = defaultdict(list)
    for t in RAW_TABLES:
        by_source[t.source].append(t)
    out: dict[str, str] = {}
    for source, tables in by_source.items():
        lines = [
            "# Generated from lifecycle/schema.py by scripts/write_sources_yml.py: edit the contract, not this file.",
            "version: 2",
            "",
            "sources:",
            f"  - name: {source}",
            f"    description: \"{SOURCE_DESCRIPTIONS[source]}\"",
            "    meta:",
            "      external_location: \"read_parquet("
            "'{{ env_var('LIFECYCLE_RAW_DIR', 'data/raw') }}/{name}/*.parquet', union_by_name = true)\"",
            "    config:",
            "      loaded_at_field: _loaded_at",
            "      freshness:",
            "        warn_after: {count: 2, period: day}",
            "    tables:",
        ]
        for t in tables:
            lines += [f"      - name: {t.name}", f"        description: \"{t.description}\"", "        columns:"]
            for name, typ in t.columns:
                lines += [f"          - name: {name}", f"            data_type: {ARROW_TO_SQL[str(typ)]}"]
                if name == "_loaded_at":
                    lines.append("            description: When the loader wrote the row (UTC).")
        out[f"models/staging/{source}/_{source}__sources.yml"] = "\n".join(lines) + "\n"
    return out


def main() -> None:
    for rel, text in render().items():
        path = ROOT / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print("wrote", rel)


if __name__ == "__main__":
    main()
