#!/usr/bin/env python3
"""Independent cross-check of a profile package produced by simgw's Rust codec.

Usage: check.py PACKAGE.der EXPECTED.json [PACKAGE.der EXPECTED.json ...]

Splits the package into its top-level TLVs (a package is a plain concatenation of DER
ProfileElements), decodes each with PyPI asn1tools against pe_subset.asn (next to this
script), asserts encode(decode(x)) == x for every element, and compares the decoded
fields with the expected values in the JSON file. Several pairs are checked in one run
(the module is compiled once). Exit status: 0 on agreement, 1 on any difference (each
listed on stderr, with its package), 2 on a usage or setup error.

Expected JSON (hex strings are lower or upper case, without separators):
{
  "order": ["header", "mf", ...],            # ProfileElement alternatives, in order
  "identifications": [1, 2, ...],            # PEHeader ids of the non-header elements
  "header": {"major-version": 2, "minor-version": 3, "profileType": "...",
             "iccid": "<hex, plain BCD>", "services": ["usim", ...],
             "gfste": ["2.23.143.1.2.1", ...]},
  "ef_iccid": "<hex>", "ef_imsi": "<hex>", "ef_acc": "<hex>",
  "aka": {"algorithmID": 1, "algorithmOptions": "<hex>", "key": "<hex>", "opc": "<hex>"},
  "akas": [{"algorithmID": 3, ...}, ...],    # every akaParameter, in order (instead of "aka")
  "unmodelled_ok": true,                     # allow alternatives pe_subset.asn does not
                                             # model (their content is not checked; they
                                             # are left out of "identifications")
  "pins": [{"keyReference": 1, "pinValue": "<hex>"}, ...],   # every PINConfiguration
  "puks": [{"keyReference": 1, "pukValue": "<hex>"}, ...],   # every PUKConfiguration
  "end_id": 7
}
"""

import json
import os
import sys

MODELLED = {"header", "mf", "usim", "pinCodes", "pukCodes", "akaParameter", "end"}


def split_tlvs(data):
    """Top-level TLVs of a package: handles multi-byte tags and long-form lengths."""
    out = []
    i = 0
    while i < len(data):
        start = i
        first = data[i]
        i += 1
        if first & 0x1F == 0x1F:
            while True:
                if i >= len(data):
                    raise ValueError("truncated tag at offset %d" % start)
                b = data[i]
                i += 1
                if not b & 0x80:
                    break
        if i >= len(data):
            raise ValueError("missing length at offset %d" % start)
        length = data[i]
        i += 1
        if length & 0x80:
            n = length & 0x7F
            if n == 0 or n > 4 or i + n > len(data):
                raise ValueError("bad length at offset %d" % start)
            length = int.from_bytes(data[i:i + n], "big")
            i += n
        end = i + length
        if end > len(data):
            raise ValueError("element at offset %d runs past the end" % start)
        out.append(data[start:end])
        i = end
    return out


def file_contents(file_value):
    """The fillFileContent bytes of a decoded File (SEQUENCE OF CHOICE)."""
    return [v for (alt, v) in file_value if alt == "fillFileContent"]


class Diff:
    def __init__(self):
        self.items = []
        self.count = 0

    def check(self, what, expected, actual):
        if expected != actual:
            self.items.append("%s: expected %s, asn1tools decoded %s" % (what, show(expected), show(actual)))

    def fail(self, message):
        self.items.append(message)


def show(v):
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).hex()
    if isinstance(v, list):
        return "[" + ", ".join(show(x) for x in v) + "]"
    return repr(v)


def unhex(s):
    return bytes.fromhex(s)


def check_aka(diff, label, value, e):
    """Compares one decoded akaParameter with its expected algorithm, options and keys."""
    alt, algo = value["algoConfiguration"]
    if alt != "algoParameter":
        diff.fail("%s.algoConfiguration is %s, expected algoParameter" % (label, alt))
        return
    diff.check(label + ".algorithmID", e["algorithmID"], algo["algorithmID"])
    diff.check(label + ".algorithmOptions", unhex(e["algorithmOptions"]), algo["algorithmOptions"])
    diff.check(label + ".key", unhex(e["key"]), algo["key"])
    diff.check(label + ".opc", unhex(e["opc"]), algo["opc"])


def check_package(spec, package, expected):
    """Every difference between a package and its expected values, as a Diff."""
    diff = Diff()
    try:
        tlvs = split_tlvs(package)
    except ValueError as e:
        diff.fail("package does not split into TLVs: %s" % e)
        return diff
    unmodelled_ok = expected.get("unmodelled_ok", False)

    decoded = []
    for index, tlv in enumerate(tlvs):
        try:
            alt, value = spec.decode("ProfileElement", tlv)
        except Exception as e:  # asn1tools raises several error types
            diff.fail("element %d (tag %s): asn1tools cannot decode it: %s" % (index, tlv[:2].hex(), e))
            continue
        if alt is None:
            diff.fail("element %d (tag %s): unknown ProfileElement alternative" % (index, tlv[:2].hex()))
            continue
        if alt not in MODELLED:
            if unmodelled_ok:
                decoded.append((alt, None))
            else:
                diff.fail("element %d: alternative %s is not modelled in pe_subset.asn" % (index, alt))
            continue
        decoded.append((alt, value))
        # An absent sqnInit decodes as the simplified DEFAULT (a hex string), which cannot
        # be re-encoded as a SEQUENCE OF: drop it (absent again on encode).
        again = value
        if alt == "akaParameter" and isinstance(value.get("sqnInit"), (str, bytes)):
            again = dict(value)
            del again["sqnInit"]
        try:
            reencoded = spec.encode("ProfileElement", (alt, again))
        except Exception as e:
            diff.fail("element %d (%s): asn1tools cannot re-encode it: %s" % (index, alt, e))
            continue
        if reencoded != tlv:
            diff.fail("element %d (%s): encode(decode(x)) != x\n    x      = %s\n    again  = %s"
                      % (index, alt, tlv.hex(), reencoded.hex()))

    if "order" in expected:
        diff.check("element order", expected["order"], [a for a, _ in decoded])
    if "identifications" in expected:
        ids = []
        for alt, value in decoded:
            if alt == "header" or value is None:
                continue
            header = next(v for k, v in value.items() if k.lower().endswith("-header"))
            ids.append(header["identification"])
        diff.check("PE identifications", expected["identifications"], ids)

    def only(alt):
        found = [v for a, v in decoded if a == alt]
        if len(found) != 1:
            diff.fail("expected exactly one %s element, found %d" % (alt, len(found)))
            return None
        return found[0]

    header = only("header")
    if header is not None and "header" in expected:
        e = expected["header"]
        for field in ("major-version", "minor-version", "profileType"):
            if field in e:
                diff.check("header." + field, e[field], header.get(field))
        if "iccid" in e:
            diff.check("header.iccid", unhex(e["iccid"]), header.get("iccid"))
        if "services" in e:
            diff.check("header.eUICC-Mandatory-services", sorted(e["services"]),
                       sorted(header.get("eUICC-Mandatory-services", {}).keys()))
        if "gfste" in e:
            diff.check("header.eUICC-Mandatory-GFSTEList", e["gfste"],
                       header.get("eUICC-Mandatory-GFSTEList"))

    mf = only("mf")
    if mf is not None and "ef_iccid" in expected:
        diff.check("mf.ef-iccid fillFileContent", [unhex(expected["ef_iccid"])],
                   file_contents(mf["ef-iccid"]))
    usim = only("usim")
    if usim is not None and "ef_imsi" in expected:
        diff.check("usim.ef-imsi fillFileContent", [unhex(expected["ef_imsi"])],
                   file_contents(usim["ef-imsi"]))
    if usim is not None and "ef_acc" in expected:
        diff.check("usim.ef-acc fillFileContent", [unhex(expected["ef_acc"])],
                   file_contents(usim["ef-acc"]))

    if "aka" in expected:
        aka = only("akaParameter")
        if aka is not None:
            check_aka(diff, "aka", aka, expected["aka"])
    if "akas" in expected:
        akas = [v for a, v in decoded if a == "akaParameter"]
        if len(akas) != len(expected["akas"]):
            diff.fail("expected %d akaParameter elements, found %d"
                      % (len(expected["akas"]), len(akas)))
        for i, (value, e) in enumerate(zip(akas, expected["akas"])):
            check_aka(diff, "akas[%d]" % i, value, e)

    if "pins" in expected:
        pins = []
        for alt, value in decoded:
            if alt == "pinCodes":
                kind, codes = value["pinCodes"]
                if kind == "pinconfig":
                    pins.extend((c["keyReference"], c["pinValue"]) for c in codes)
        diff.check("PIN (keyReference, pinValue) list",
                   [(p["keyReference"], unhex(p["pinValue"])) for p in expected["pins"]], pins)
    if "puks" in expected:
        puks = []
        for alt, value in decoded:
            if alt == "pukCodes":
                puks.extend((c["keyReference"], c["pukValue"]) for c in value["pukCodes"])
        diff.check("PUK (keyReference, pukValue) list",
                   [(p["keyReference"], unhex(p["pukValue"])) for p in expected["puks"]], puks)

    end = only("end")
    if end is not None and "end_id" in expected:
        diff.check("end.identification", expected["end_id"], end["end-header"]["identification"])
    if decoded and decoded[-1][0] != "end":
        diff.fail("last element is %s, not end" % decoded[-1][0])
    diff.count = len(decoded)
    return diff


def main(argv):
    if len(argv) < 3 or len(argv) % 2 != 1:
        print("usage: check.py PACKAGE.der EXPECTED.json [PACKAGE.der EXPECTED.json ...]",
              file=sys.stderr)
        return 2
    try:
        import asn1tools
    except ImportError:
        print("asn1tools is not installed: pip install asn1tools==0.169.0", file=sys.stderr)
        return 2
    here = os.path.dirname(os.path.abspath(__file__))
    spec = asn1tools.compile_files([os.path.join(here, "pe_subset.asn")], codec="der")
    status = 0
    for der_path, json_path in zip(argv[1::2], argv[2::2]):
        with open(der_path, "rb") as f:
            package = f.read()
        with open(json_path, "r", encoding="utf-8") as f:
            expected = json.load(f)
        diff = check_package(spec, package, expected)
        if diff.items:
            print("%s: asn1tools disagrees with the expected values (%d):"
                  % (der_path, len(diff.items)), file=sys.stderr)
            for item in diff.items:
                print("  - " + item, file=sys.stderr)
            status = 1
        else:
            print("%s: asn1tools agrees: %d elements decoded, modelled ones re-encoded "
                  "byte-identically, fields match" % (der_path, diff.count))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
