#!/usr/bin/env bash
# A Python client generated from api-spec/openapi.yaml by a real generator
# (openapi-python-client, pinned, from PyPI) must cover every operation with
# typed bodies. This script, in a venv of its own:
#   1. validates the spec with openapi-spec-validator (pinned, from PyPI), and
#      every request body example against its schema;
#   2. generates the client into a temporary directory and FAILS if the
#      generator reports anything (a skipped endpoint, an unsupported content
#      type or schema, any warning);
#   3. imports the generated package and checks by introspection that there
#      is exactly one endpoint module per operationId, answering the spec's
#      method and path; that every request body is typed (no `Any`): each
#      JSON body a generated model class (one per alternative of a `oneOf`),
#      each raw body a `File`; that every response is typed (no `Any`); and
#      that each request body example of the spec, parsed by the generated
#      model and sent by the generated endpoint, goes out unchanged (the same
#      JSON, or the same bytes under a declared media type).
# It prints one summary line (operations, modules, models) and exits non-zero
# on any failure.
#
#   scripts/check-client.sh                      # ~5 s warm; ~25 s when it installs the tools
#   CLIENT_OUT=/tmp/client scripts/check-client.sh   # also keep the generated package there
#   CHECK_CLIENT_SPEC=other.yaml scripts/check-client.sh   # check another spec
#
# Raw (non-JSON) bodies. The generator supports JSON (`application/json`,
# `*+json`), `application/x-www-form-urlencoded`, `multipart/form-data` and
# `application/octet-stream` request bodies, and warns "Unsupported content
# type" (skipping the whole endpoint) for anything else, such as the import's
# `text/csv`, `application/xml` and `text/xml`. Its documented config option
# `content_type_overrides` parses another media type as one of those; the
# generated code still sends the media type the spec declares. This script
# maps every request media type whose schema is `type: string, format:
# binary` to `application/octet-stream` (raw bytes, typed `File`; the schema
# must say `format: binary`, since a raw body is sent as `File.payload`), and
# nothing else: a raw body described otherwise is still reported and fails.
# A `multipart/form-data` body must be an object whose binary properties
# the generated form model sends as file parts, byte for byte.
#
# One generator limit remains (openapi-python-client issues #1004 and #1276,
# open for 0.29.1): when one operation declares several media types whose
# bodies have the same Python type, the generated code picks the media type
# with `isinstance` checks that all match, so the last one declared wins, and
# it makes the body optional. `importReceivables` declares `text/csv`,
# `application/xml`, `text/xml`, the `.xlsx` type and
# `application/octet-stream`, all `File`: its generated `import_receivables`
# sends every raw upload as `application/octet-stream`, which the server
# reads by its bytes (CSV, UBL or a workbook), so uploads through it work;
# its form model (`multipart/form-data`, a `file` part) works as well. That
# operation is listed in KNOWN_SHARED_TYPE below: the check makes sure it is
# generated with a `File` body that goes out byte for byte under one of its
# declared media types, prints a note, and fails if any other operation runs
# into the limit or if this one no longer does (a generator that fixed it:
# drop the entry).
set -euo pipefail
cd "$(dirname "$0")/.."

GENERATOR_VERSION=0.29.1   # openapi-python-client
VALIDATOR_VERSION=0.9.0    # openapi-spec-validator
SPEC="${CHECK_CLIENT_SPEC:-api-spec/openapi.yaml}"
PACKAGE=anchorfin_api_client
VENV="${CHECK_CLIENT_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/anchorfin/check-client-venv}"
PYTHON="${PYTHON:-python3}"
started_at="$(date +%s)"

say() { printf '%s\n' "$*"; }
fail() { say "check-client: FAILED: $*" >&2; exit 1; }

# The tools, pinned, in a venv of their own (the generator needs Python 3.11+;
# its own dependencies include httpx and attrs, which are all that the
# generated client needs at run time).
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || fail "$PYTHON is $("$PYTHON" --version 2>&1); openapi-python-client $GENERATOR_VERSION needs Python 3.11 or later"
versions_ok() {
  "$VENV/bin/python" - "$GENERATOR_VERSION" "$VALIDATOR_VERSION" >/dev/null 2>&1 <<'PY'
import sys, importlib.metadata as m
wanted = {"openapi-python-client": sys.argv[1], "openapi-spec-validator": sys.argv[2]}
sys.exit(any(m.version(name) != version for name, version in wanted.items()))
PY
}
if ! versions_ok; then
  install_started=$SECONDS
  say "== installing openapi-python-client $GENERATOR_VERSION and openapi-spec-validator $VALIDATOR_VERSION into $VENV"
  "$VENV/bin/python" -c '' 2>/dev/null || "$PYTHON" -m venv --clear "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "openapi-python-client==$GENERATOR_VERSION" "openapi-spec-validator==$VALIDATOR_VERSION"
  versions_ok || fail "the pinned versions are still not installed in $VENV"
  say "   installed in $((SECONDS - install_started))s"
fi
export PATH="$VENV/bin:$PATH"   # the generator's post hooks run `ruff` (one of its dependencies)

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# 1. The spec is valid; its request body examples match their schemas. Writes
#    the generator's config (the raw media types, see above) for step 2.
"$VENV/bin/python" - "$SPEC" "$WORK/config.json" <<'PY' || fail "the spec is not valid"
import json, sys
import openapi_spec_validator
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator.readers import read_from_filename

spec_path, config_path = sys.argv[1:]
spec, base_uri = read_from_filename(spec_path)
openapi_spec_validator.validate(spec, base_uri=base_uri)

NATIVE = ("application/json", "application/x-www-form-urlencoded", "multipart/form-data", "application/octet-stream")
problems, overrides = [], {}
for path, item in spec["paths"].items():
    for method, operation in item.items():
        body = operation.get("requestBody") if isinstance(operation, dict) else None
        for media_type, content in (body or {}).get("content", {}).items():
            schema = content.get("schema", {})
            if media_type not in NATIVE and not media_type.endswith("+json"):
                if schema.get("type") == "string" and schema.get("format") == "binary":
                    overrides[media_type] = "application/octet-stream"
            if media_type == "application/json" or media_type.endswith("+json"):
                examples = ([content["example"]] if "example" in content else []) + \
                    [e["value"] for e in content.get("examples", {}).values() if "value" in e]
                validator = OAS31Validator({**schema, "components": spec["components"]},
                                           format_checker=OAS31Validator.FORMAT_CHECKER)
                for example in examples:
                    for error in validator.iter_errors(example):
                        problems.append(f"{operation['operationId']}: its {media_type} example: {error.message}")
for problem in problems:
    print(f"   {problem}")
json.dump({"content_type_overrides": overrides}, open(config_path, "w"))
sys.exit(1 if problems else 0)
PY

# 2. Generation: any message from the generator but its first line fails.
mkdir -p "$WORK/client"
generated=0
"$VENV/bin/openapi-python-client" generate --path "$SPEC" --config "$WORK/config.json" --meta none \
  --output-path "$WORK/client/$PACKAGE" --fail-on-warning >"$WORK/generate.log" 2>&1 || generated=$?
if [ "$generated" -ne 0 ] || grep -vxF "Generating $WORK/client/$PACKAGE" "$WORK/generate.log" | grep -q .; then
  cat "$WORK/generate.log" >&2
  fail "openapi-python-client $GENERATOR_VERSION reported warnings or errors (exit $generated, output above)"
fi
if [ -n "${CLIENT_OUT:-}" ]; then
  rm -rf "${CLIENT_OUT:?}/$PACKAGE" && mkdir -p "$CLIENT_OUT" && cp -r "$WORK/client/$PACKAGE" "$CLIENT_OUT/"
fi

# 3. The generated package, imported and inspected.
PYTHONPATH="$WORK/client" "$VENV/bin/python" - "$SPEC" "$PACKAGE" "$GENERATOR_VERSION" "$VALIDATOR_VERSION" "$started_at" <<'PY' \
  || fail "the generated client does not cover the spec with typed bodies (above)"
import datetime, enum, importlib, inspect, io, json, pkgutil, re, sys, time, types, typing, uuid
from urllib.parse import quote

import attrs
from openapi_python_client.strings import snake_case
from openapi_spec_validator.readers import read_from_filename

spec_path, package, generator_version, validator_version, started_at = sys.argv[1:]
spec, _ = read_from_filename(spec_path)
client = importlib.import_module(package)
client_types = importlib.import_module(f"{package}.types")
models = importlib.import_module(f"{package}.models")
File, Unset, Response = client_types.File, client_types.Unset, client_types.Response

# The operations whose media types share one Python type (see the header).
KNOWN_SHARED_TYPE = {"importReceivables"}

failures, notes = [], []
def fail(message):
    failures.append(message)

def is_json(media_type):
    return media_type == "application/json" or media_type.endswith("+json")

def members(annotation):
    """The alternatives of a (possibly nested) union annotation."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in members(arg)]
    return [annotation]

def is_model(cls):
    return isinstance(cls, type) and attrs.has(cls) and getattr(models, cls.__name__, None) is cls \
        and hasattr(cls, "to_dict") and hasattr(cls, "from_dict")

def untyped(annotation):
    return annotation in (typing.Any, object, inspect.Parameter.empty) or annotation is None \
        or (typing.get_origin(annotation) in (dict, list) and typing.Any in typing.get_args(annotation))

def dummy(annotation):
    """A well-typed value for a required argument of `_get_kwargs`."""
    for m in members(annotation):
        if m is uuid.UUID:
            return uuid.UUID("0b9e5a4c-8d1f-4a57-9a3e-2f6c1d7e8b90")
        if m is datetime.datetime:
            return datetime.datetime(2027, 1, 31, 18, tzinfo=datetime.timezone.utc)
        if m is datetime.date:
            return datetime.date(2027, 1, 31)
        if isinstance(m, type) and issubclass(m, enum.Enum):
            return next(iter(m))
        if m in (bool, int, float):
            return m(1)
    return "p"

def schema_names(schema):
    """The component names a JSON body's schema is made of: its $ref, or each $ref of its oneOf/anyOf."""
    name = schema["$ref"].rsplit("/", 1)[1] if "$ref" in schema else None
    target = spec["components"]["schemas"][name] if name else schema
    alternatives = target.get("oneOf") or target.get("anyOf") or []
    if alternatives and all("$ref" in a for a in alternatives):
        return {a["$ref"].rsplit("/", 1)[1] for a in alternatives}
    return {name} if name else set()

def check_route(op_id, method, path, arguments, kwargs):
    """The module sends the spec's method to the spec's path (path parameters filled in)."""
    url = re.sub(r"\{([^}]+)\}", lambda m: quote(str(arguments.get(snake_case(m.group(1)), "?")), safe=""), path)
    if (kwargs["method"], kwargs["url"]) != (method, url):
        fail(f"{op_id}: the module sends {kwargs['method'].upper()} {kwargs['url']}, "
             f"the spec says {method.upper()} {path}")

# Every endpoint module the generator wrote.
modules = {}
for info in pkgutil.walk_packages(client.__path__, f"{package}."):
    module = importlib.import_module(info.name)   # imports the whole package: it must load
    if info.name.startswith(f"{package}.api.") and hasattr(module, "_get_kwargs"):
        modules.setdefault(info.name.rsplit(".", 1)[1], []).append(module)

operations = [(method, path, operation)
              for path, item in spec["paths"].items()
              for method, operation in item.items()
              if method in ("get", "put", "post", "delete", "patch", "head", "options", "trace")]
operation_ids = [operation["operationId"] for *_, operation in operations]
if len(set(operation_ids)) != len(operation_ids):
    fail("operationIds are not unique")
expected_names = {snake_case(op_id) for op_id in operation_ids}
for name in sorted(set(modules) - expected_names):
    fail(f"module {name}: no operation of the spec")

json_bodies = raw_bodies = 0
body_models = set()
for method, path, operation in operations:
    op_id = operation["operationId"]
    found = modules.get(snake_case(op_id), [])
    if len(found) != 1:
        fail(f"{op_id} ({method.upper()} {path}): {len(found)} generated modules, expected 1")
        continue
    module = found[0]
    hints = typing.get_type_hints(module._get_kwargs)
    signature = inspect.signature(module._get_kwargs)
    arguments = {name: dummy(hints.get(name)) for name, parameter in signature.parameters.items()
                 if name != "body" and parameter.default is inspect.Parameter.empty}
    body = operation.get("requestBody")

    # Responses: typed, never Any.
    returned = typing.get_type_hints(module.sync_detailed).get("return")
    if typing.get_origin(returned) is not Response:
        fail(f"{op_id}: sync_detailed returns {returned!r}, not a Response")
    else:
        for m in members(typing.get_args(returned)[0]):
            if untyped(m):
                fail(f"{op_id}: a response is typed {m!r}")

    if body is None:
        if "body" in signature.parameters:
            fail(f"{op_id}: the spec has no request body, the module takes one")
        check_route(op_id, method, path, arguments, module._get_kwargs(**arguments))
        continue

    content = body["content"]
    if "body" not in signature.parameters:
        fail(f"{op_id}: the request body is not generated")
        continue
    annotation = hints.get("body", inspect.Parameter.empty)
    alternatives = [m for m in members(annotation) if m is not Unset]
    optional = len(alternatives) < len(members(annotation))
    for m in alternatives:
        if untyped(m):
            fail(f"{op_id}: the request body is typed {m!r}")
    if body.get("required") and optional and len(content) == 1:
        fail(f"{op_id}: the spec requires the request body, the module makes it optional")

    sent_types = []
    for media_type, media in content.items():
        schema = media.get("schema", {})
        examples = ([media["example"]] if "example" in media else []) + \
            [e["value"] for e in media.get("examples", {}).values() if "value" in e]
        if is_json(media_type):
            json_bodies += 1
            classes = [m for m in alternatives if is_model(m)]
            if not classes or len(classes) != len(alternatives):
                fail(f"{op_id}: the {media_type} body is typed {annotation!r}, not generated model classes")
                continue
            names, wanted = {c.__name__ for c in classes}, schema_names(schema)
            if wanted and names != wanted:
                fail(f"{op_id}: the {media_type} body is typed {sorted(names)}, the spec has {sorted(wanted)}")
            body_models.update(names)
            # Each example parses as exactly one alternative and goes out unchanged.
            for example in examples:
                parsed, why = [], []
                for cls in classes:
                    try:
                        value = cls.from_dict(example)
                    except (KeyError, TypeError, ValueError, AttributeError) as error:
                        why.append(f"{cls.__name__} does not parse it ({type(error).__name__}: {error})")
                        continue
                    again = value.to_dict()
                    if again == example:
                        parsed.append(value)
                    else:
                        why.append(f"{cls.__name__} writes it back otherwise: " + ", ".join(
                            f"{key}: {example.get(key)!r} -> {again.get(key)!r}"
                            for key in sorted(set(example) | set(again)) if example.get(key) != again.get(key)))
                if len(parsed) != 1:
                    fail(f"{op_id}: its {media_type} example round-trips through {len(parsed)} of "
                         f"{sorted(names)}, expected exactly 1: " + "; ".join(why))
                    continue
                kwargs = module._get_kwargs(body=parsed[0], **arguments)
                check_route(op_id, method, path, arguments, kwargs)
                sent = kwargs["headers"].get("Content-Type")
                if kwargs.get("json") != example or sent != media_type:
                    fail(f"{op_id}: its {media_type} example goes out as {sent} "
                         f"{json.dumps(kwargs.get('json'))[:200]}")
        elif schema.get("type") == "string" and schema.get("format") == "binary":
            raw_bodies += 1
            if File not in alternatives:
                fail(f"{op_id}: the {media_type} body is typed {annotation!r}, not File")
                continue
            payload = (examples[0] if examples else "raw body").encode()
            kwargs = module._get_kwargs(body=File(payload=io.BytesIO(payload), mime_type=media_type), **arguments)
            check_route(op_id, method, path, arguments, kwargs)
            sent = kwargs["headers"].get("Content-Type")
            if kwargs.get("content").read() != payload or sent not in content:
                fail(f"{op_id}: a {media_type} body goes out as {sent}, not byte for byte")
            sent_types.append((media_type, sent))
        elif media_type == "multipart/form-data" and schema.get("type") == "object":
            # A form: its model's binary properties go out as file parts.
            classes = [m for m in alternatives if is_model(m) and hasattr(m, "to_multipart")]
            if len(classes) != 1:
                fail(f"{op_id}: the {media_type} body is typed {annotation!r}, not one form model")
                continue
            binary = sorted(name for name, prop in schema.get("properties", {}).items()
                            if prop.get("type") == "string" and prop.get("format") == "binary")
            payload = b"raw body"
            form = classes[0](**{name: File(payload=io.BytesIO(payload), file_name="upload.csv",
                                            mime_type="text/csv") for name in binary})
            kwargs = module._get_kwargs(body=form, **arguments)
            check_route(op_id, method, path, arguments, kwargs)
            parts = {name: part for name, part in kwargs.get("files") or []}
            sent = kwargs["headers"].get("Content-Type", "")
            if not binary or set(parts) != set(binary) or not sent.startswith("multipart/form-data"):
                fail(f"{op_id}: the {media_type} body goes out as {sent} with parts {sorted(parts)}, "
                     f"not the file parts {binary}")
            elif any(part[1].read() != payload for part in parts.values()):
                fail(f"{op_id}: a file part of the {media_type} body is not sent byte for byte")
        else:
            fail(f"{op_id}: the {media_type} body is neither JSON, `type: string, format: binary` nor a form")

    # The generator limit of the header: media types of one operation sharing one Python type.
    shared = len(alternatives) != len(set(alternatives)) or any(sent != declared for declared, sent in sent_types)
    if shared and op_id not in KNOWN_SHARED_TYPE:
        fail(f"{op_id}: its media types {', '.join(content)} share one Python type, so the generated "
             f"client cannot choose between them")
    elif shared:
        notes.append(f"{op_id}: the generated client sends every {'/'.join(t for t, _ in sent_types)} body as "
                     f"{sent_types[-1][1] if sent_types else '?'} (openapi-python-client #1004/#1276; see scripts/check-client.sh)")
    elif op_id in KNOWN_SHARED_TYPE:
        fail(f"{op_id}: its media types no longer share one Python type: drop it from KNOWN_SHARED_TYPE")

for note in notes:
    print(f"   note: {note}")
for failure in failures:
    print(f"   FAIL {failure}")
model_classes = [getattr(models, name) for name in models.__all__ if attrs.has(getattr(models, name))]
summary = (f"{len(operations)} operations, {sum(len(m) for m in modules.values())} endpoint modules, "
           f"{len(model_classes)} models ({json_bodies} JSON request bodies as {len(body_models)} model "
           f"classes, {raw_bodies} raw bodies as File); openapi-python-client {generator_version}: no "
           f"warnings; spec valid (openapi-spec-validator {validator_version}); "
           f"{time.time() - float(started_at):.0f}s")
if failures:
    print(f"check-client: FAILED ({len(failures)} problem(s)): {summary}")
    sys.exit(1)
print(f"check-client: OK: {summary}")
PY
