"""The Python peer of the export benchmark: fast-bitrix24's get_all('crm.item.list').

Run by bench/compare.rs (see bench/run.sh) against a seeded emulator. Prints one JSON line:
how long get_all took, how many records came back, and how many of the ids 1..N were lost or
duplicated. A failing get_all is reported in the JSON ("error"), not as a crash.
"""

import argparse
import asyncio
import json
import sys
import time
import warnings
from importlib.metadata import version

from fast_bitrix24 import BitrixAsync


async def export(args):
    bitrix = BitrixAsync(
        args.webhook,
        verbose=False,
        request_pool_size=args.pool,
        requests_per_second=args.rate,
    )
    params = {"entityTypeId": args.entity_type, "select": ["id", "title"]}
    if args.concurrency is None:
        return await bitrix.get_all("crm.item.list", params=params)
    # The library's own knob for servers that refuse its default 50 concurrent requests.
    with bitrix.slow(max_concurrent_requests=args.concurrency):
        return await bitrix.get_all("crm.item.list", params=params)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--webhook", required=True)
    parser.add_argument("--records", type=int, required=True)
    parser.add_argument("--entity-type", type=int, default=2)
    parser.add_argument("--pool", type=int, default=50)
    parser.add_argument("--rate", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=None)
    args = parser.parse_args()

    result = {
        "client": f"fast-bitrix24 {version('fast-bitrix24')} (get_all"
        + ("" if args.concurrency is None else f", slow({args.concurrency})")
        + ")",
        "error": None,
    }
    items = []
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            items = asyncio.run(export(args))
        except Exception as error:  # reported, not raised: the run still has figures
            result["error"] = f"{type(error).__name__}: {error}"
    result["seconds"] = time.perf_counter() - started
    result["warnings"] = [str(w.message) for w in caught][:10]

    counts = [0] * (args.records + 1)
    outside = 0
    for item in items if isinstance(items, list) else []:
        try:
            record_id = int(item["id"])
        except (KeyError, TypeError, ValueError):
            outside += 1
            continue
        if 1 <= record_id <= args.records:
            counts[record_id] += 1
        else:
            outside += 1
    received = sum(counts) + outside
    distinct = sum(1 for n in counts[1:] if n)
    result.update(
        records_received=received,
        lost=args.records - distinct,
        duplicated=received - distinct - outside,
        unknown_ids=outside,
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
