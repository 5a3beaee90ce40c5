"""The part of macOS's plutil that packaging/mdm/jamf-extension-attribute.sh uses, for running it
on Linux: `plutil -extract KEYPATH raw -o - -` on JSON from stdin prints the value at the
dotted KEYPATH (strings as they are, booleans as true/false, numbers as written) and fails with
no output when there is none (plutil has no null: a JSON null is "no value"). Not plutil.
"""
import json
import sys

args = sys.argv[1:]
if len(args) != 6 or args[0] != "-extract" or args[2:] != ["raw", "-o", "-", "-"]:
    sys.exit(f"plutil shim: unsupported arguments {args}")
try:
    value = json.load(sys.stdin)
    for part in args[1].split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
except (ValueError, KeyError, IndexError, TypeError):
    sys.exit(f"No value at that key path or invalid key path: {args[1]}")
if value is None or isinstance(value, (dict, list)):
    sys.exit(f"Value at [{args[1]}] is not a raw value")
if isinstance(value, bool):
    print("true" if value else "false")
else:
    print(value)
