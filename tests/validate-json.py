#!/usr/bin/env python3
"""Validates every JSON Lines record the test suite produced against
schema/kaddr-record.schema.json. The C++ tests append each JSON line they
parse to $KADDR_JSON_RECORDS; this checks those files (fails when there are
none: a check that saw nothing has checked nothing)."""
import collections
import json
import sys

import jsonschema

schema_path, *record_files = sys.argv[1:]
with open(schema_path) as f:
    schema = json.load(f)
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)

counts = collections.Counter()
bad = 0
seen = set()  # the batch test prints the same reports hundreds of times from different files
for path in record_files:
    try:
        f = open(path, encoding="utf-8")
    except FileNotFoundError:
        print(f"{path}: missing (did its test tier run?)")
        continue
    with f:
        for n, line in enumerate(f, 1):
            record = json.loads(line)
            counts[record.get("record", "?")] += 1
            key = json.dumps({k: v for k, v in record.items() if k != "source_file"}, sort_keys=True)
            if key in seen:
                continue
            seen.add(key)
            e = jsonschema.exceptions.best_match(validator.iter_errors(record))
            if e is not None:  # the most specific reason, inside oneOf branches too
                bad += 1
                where = "/".join(str(p) for p in e.absolute_path)
                print(f"{path}:{n}: {where}: {e.message[:300]}")
total = sum(counts.values())
print(f"{total} records checked ({', '.join(f'{v} {k}' for k, v in sorted(counts.items()))}; "
      f"{len(seen)} distinct), {bad} errors")
sys.exit(1 if bad or total == 0 else 0)
