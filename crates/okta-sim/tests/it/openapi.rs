//! Response conformance against Okta's published OpenAPI 3.0.3 description (test support only).
//!
//! The spec (`spec/okta/management-minimal.yaml`) is parsed once per test binary and its
//! `components.schemas` converted once into a JSON Schema (draft 7) document; every response
//! validator is built against that document, so `$ref: '#/components/schemas/X'` resolves inside it.
//!
//! # What is converted
//!
//! * Schema objects are rebuilt from a whitelist of keywords: `type`, `enum`, `required`,
//!   `properties`, `additionalProperties`, `items`, `allOf`/`oneOf`/`anyOf`/`not`, the length, size,
//!   range and `pattern` constraints, `readOnly`/`writeOnly`. Everything else is dropped, including the
//!   OpenAPI-only `discriminator` (after use, see below), `xml`, `externalDocs`, `example`,
//!   `deprecated` and every `x-*` extension, and annotation-only `title`/`description`/`default`.
//! * `nullable: true` allows `null`: added to `type` (and to `enum` when present) for simple schemas;
//!   schemas built from `$ref`/`allOf`/`oneOf`/`anyOf` are wrapped in `if: {type: null}, else: ...`.
//! * OpenAPI 3.0 boolean `exclusiveMinimum`/`exclusiveMaximum` become the draft-7 numeric form.
//! * `format: date-time` is validated (RFC 3339, which is what Okta sends). All other formats are
//!   dropped: Okta's spec uses many free-text or non-standard ones (`text`, `iss_sub`, `select`,
//!   prose sentences) and its `uri` values are often templates such as `https://{yourOktaDomain}`.
//! * `discriminator` with `oneOf`/`anyOf`: validation goes to the schema mapped for the discriminator
//!   value (explicit `mapping`, else the implicit schema-name mapping); an unmapped or missing value
//!   falls back to `anyOf` over the alternatives rather than a strict `oneOf` (Okta's alternatives
//!   overlap, e.g. `StandardRole`/`CustomRole`, so strict `oneOf` would reject valid bodies).
//! * `discriminator` on an inheritance base (e.g. `Application` by `signOnMode`, whose subtypes are
//!   `allOf: [Application, ...]`): the component is split into `X__base` (its own properties) and
//!   `X` = `X__base` plus one `if/then` per mapping value to the mapped subtype. `allOf` references
//!   to such a base point at `X__base`, which is what breaks the subtype -> base -> subtype cycle.
//!
//! # What is approximate
//!
//! * `$ref` siblings are ignored, as OpenAPI 3.0 says, except `nullable`, which is honoured.
//! * An `allOf` reference to a discriminated base never dispatches again (the subtype is already
//!   chosen); schemas that use `allOf` for composition rather than inheritance lose that dispatch.
//! * Headers, media types other than JSON and `readOnly`/`writeOnly` semantics are not checked.
//! * One deliberate loosening: a property that is not `required` also accepts `null`
//!   ([`NULL_FOR_OPTIONAL_PROPERTIES`]), because Okta sends `null` for absent optional fields and its
//!   own examples would otherwise fail. Required properties stay non-null unless `nullable`; the
//!   check is per schema object, so a property declared in one `allOf` member and required only in
//!   another still accepts `null`.
//! * Recorded deviations: statuses real Okta answers where the spec names another
//!   ([`RECORDED_STATUSES`], e.g. 200 for a mapping delete) are accepted without a body; properties the spec makes non-nullable but real Okta sends as `null`
//!   ([`RECORDED_NULLABLE`], e.g. `Application.signOnMode` of directory apps) accept `null`.
//! * One deliberate tightening: the spec's `Error` schema requires no field, but every Okta error
//!   body carries [`ERROR_REQUIRED_FIELDS`], so those are required here.
//!
//! # Matching a request to a response schema
//!
//! The concrete path (or full URL; origin and query string ignored) is matched segment by segment against the `paths`
//! templates having the method; `{param}` matches one non-empty segment. The template with most
//! literal segments wins (`/groups/rules` over `/groups/{groupId}`); equal scores go to the first
//! template in sorted order. The response is the exact status, then `NXX`, then `default`; an
//! undocumented status of 400 or more uses the `Error` schema, any other is an error. A response
//! without a JSON body expects `Value::Null`. Validators are built once per response and cached.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{json, Map, Value};

/// The OpenAPI description, relative to the crate root.
const SPEC_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/spec/okta/management-minimal.yaml"
);
/// Prefix of every schema reference in the spec and in the converted document.
const SCHEMA_REF_PREFIX: &str = "#/components/schemas/";
/// Prefix of a shared response reference in the spec.
const RESPONSE_REF_PREFIX: &str = "#/components/responses/";
/// Prefix of a shared example reference in the spec.
const EXAMPLE_REF_PREFIX: &str = "#/components/examples/";
/// Suffix of the undispatched copy of a discriminated inheritance base.
const BASE_SUFFIX: &str = "__base";
/// Schema used for error statuses when the operation documents none.
const ERROR_SCHEMA: &str = "Error";
/// Fields present in every Okta error body although the spec's `Error` schema requires none.
pub const ERROR_REQUIRED_FIELDS: &[&str] = &["errorCode", "errorSummary"];
/// Okta serializes an absent optional property as `null` (its own examples do, e.g.
/// `accessibility.errorRedirectUrl`, `LogEvent.client.zone`, `AppUser.externalId`) although the spec
/// marks few of them `nullable`; when true, every non-required property also accepts `null`.
pub const NULL_FOR_OPTIONAL_PROPERTIES: bool = true;
/// Properties the spec forbids to be `null` that real Okta sends as `null` (recorded traffic,
/// `tests/fixtures/okta-recorded/`): these accept `null` here. Recorded Okta wins over its spec.
pub const RECORDED_NULLABLE: &[(&str, &str, &str)] = &[(
    "Application",
    "signOnMode",
    "every recorded directory and HR/CSV source app (60 of 60) sends signOnMode null",
)];
/// Success statuses real Okta answers (recorded) where the spec documents another; each is a
/// response without a body. Recorded Okta wins over its spec.
pub const RECORDED_STATUSES: &[(&str, &str, u16, &str)] = &[(
    "delete",
    "/api/v1/apps/{appId}/group-push/mappings/{mappingId}",
    200,
    "every recorded delete of a mapping (4 of 4) answers 200 with Content-Length: 0, not 204",
)];
/// First HTTP status treated as an error.
const FIRST_ERROR_STATUS: u16 = 400;
/// The JSON media type Okta documents for response bodies.
const JSON_MEDIA_TYPE: &str = "application/json";
/// The one format that is validated; see the module documentation.
const VALIDATED_FORMAT: &str = "date-time";
/// Schema keywords copied verbatim from OpenAPI into JSON Schema.
const VERBATIM_KEYWORDS: &[&str] = &[
    "type",
    "enum",
    "required",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "readOnly",
    "writeOnly",
];

/// The parsed spec, its converted schemas and the validators built so far.
struct Spec {
    raw: Value,
    converter: Converter,
    /// `components.schemas` converted to JSON Schema.
    schemas: Value,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

/// The parsed spec, loaded on first use.
fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(load_spec)
}

fn load_spec() -> Spec {
    let text = std::fs::read_to_string(SPEC_PATH)
        .unwrap_or_else(|e| panic!("the OpenAPI spec must be readable at {SPEC_PATH}: {e}"));
    let mut raw: Value = serde_yaml_ng::from_str(&text)
        .unwrap_or_else(|e| panic!("the OpenAPI spec at {SPEC_PATH} must be valid YAML: {e}"));
    for (schema, property, _why) in RECORDED_NULLABLE {
        let slot = &mut raw["components"]["schemas"][*schema]["properties"][*property];
        assert!(
            slot.is_object(),
            "RECORDED_NULLABLE names {schema}.{property}, which the spec does not have"
        );
        slot["nullable"] = Value::Bool(true);
    }
    let empty = Map::new();
    let components = raw["components"]["schemas"].as_object().unwrap_or(&empty);
    let converter = Converter::new(components);
    let schemas = Value::Object(converter.components(components));
    Spec {
        raw,
        converter,
        schemas,
        validators: Mutex::new(HashMap::new()),
    }
}

/// Rewrites OpenAPI 3.0 schema objects into JSON Schema draft 7.
struct Converter {
    /// Components carrying a `discriminator` without `oneOf`/`anyOf`: inheritance bases.
    inheritance_bases: HashSet<String>,
}

impl Converter {
    fn new(components: &Map<String, Value>) -> Self {
        let inheritance_bases = components
            .iter()
            .filter(|(_, s)| {
                s.get("discriminator").is_some()
                    && s.get("oneOf").is_none()
                    && s.get("anyOf").is_none()
            })
            .map(|(name, _)| name.clone())
            .collect();
        Self { inheritance_bases }
    }

    /// Converts every component schema, splitting discriminated inheritance bases.
    fn components(&self, components: &Map<String, Value>) -> Map<String, Value> {
        let mut out = Map::new();
        for (name, schema) in components {
            let converted = self.schema(schema, Some(name));
            if !self.inheritance_bases.contains(name) {
                out.insert(name.clone(), converted);
                continue;
            }
            let base = format!("{name}{BASE_SUFFIX}");
            let mut parts = vec![json!({ "$ref": schema_ref(&base) })];
            parts.extend(self.dispatch(&schema["discriminator"], &[], Some(name)));
            out.insert(base, converted);
            out.insert(name.clone(), json!({ "allOf": parts }));
        }
        if let Some(Value::Object(error)) = out.get_mut(ERROR_SCHEMA) {
            error.insert("required".into(), json!(ERROR_REQUIRED_FIELDS));
        }
        out
    }

    /// Converts one schema object; `owner` names the component it is, if any.
    fn schema(&self, schema: &Value, owner: Option<&str>) -> Value {
        let Value::Object(fields) = schema else {
            return schema.clone();
        };
        let nullable = fields.get("nullable") == Some(&Value::Bool(true));
        if let Some(reference) = fields.get("$ref") {
            return allow_null(json!({ "$ref": reference }), nullable);
        }
        let required = fields
            .get("required")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        let mut out = Map::new();
        for (key, value) in fields {
            if let Some(converted) = self.keyword(key, value, required) {
                out.insert(key.clone(), converted);
            }
        }
        convert_exclusive_bounds(fields, &mut out);
        let converted = match fields.get("discriminator") {
            Some(discriminator) => self.discriminated(out, discriminator, owner),
            None => Value::Object(out),
        };
        allow_null(converted, nullable)
    }

    /// Converts the value of one keyword, or `None` to drop it.
    fn keyword(&self, key: &str, value: &Value, required: &[Value]) -> Option<Value> {
        match key {
            "properties" => Some(self.properties(value.as_object()?, required)),
            "items" | "not" | "additionalProperties" => Some(self.schema(value, None)),
            "allOf" => Some(self.list(value, |s| self.all_of_member(s))),
            "oneOf" | "anyOf" => Some(self.list(value, |s| self.schema(s, None))),
            "format" => (value == VALIDATED_FORMAT).then(|| value.clone()),
            _ if VERBATIM_KEYWORDS.contains(&key) => Some(value.clone()),
            _ => None,
        }
    }

    /// Converts `properties`; optional ones also accept `null` when [`NULL_FOR_OPTIONAL_PROPERTIES`].
    fn properties(&self, properties: &Map<String, Value>, required: &[Value]) -> Value {
        let converted = properties.iter().map(|(name, schema)| {
            let optional = !required.iter().any(|r| r == name);
            let nullable = optional && NULL_FOR_OPTIONAL_PROPERTIES;
            (
                name.clone(),
                allow_null(self.schema(schema, None), nullable),
            )
        });
        Value::Object(converted.collect())
    }

    fn list(&self, value: &Value, convert: impl Fn(&Value) -> Value) -> Value {
        let members = value.as_array().map(|a| a.iter().map(convert).collect());
        Value::Array(members.unwrap_or_default())
    }

    /// An `allOf` member: a reference to an inheritance base means its undispatched copy.
    fn all_of_member(&self, member: &Value) -> Value {
        let target = member["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix(SCHEMA_REF_PREFIX));
        match target {
            Some(name) if self.inheritance_bases.contains(name) => {
                json!({ "$ref": schema_ref(&format!("{name}{BASE_SUFFIX}")) })
            }
            _ => self.schema(member, None),
        }
    }

    /// Applies a discriminator to an already converted schema.
    fn discriminated(
        &self,
        mut out: Map<String, Value>,
        discriminator: &Value,
        owner: Option<&str>,
    ) -> Value {
        let alternatives: Vec<Value> = ["oneOf", "anyOf"]
            .iter()
            .filter_map(|k| out.remove(*k))
            .filter_map(|v| match v {
                Value::Array(a) => Some(a),
                _ => None,
            })
            .flatten()
            .collect();
        let inheritance_component = owner.is_some_and(|o| self.inheritance_bases.contains(o));
        if alternatives.is_empty() && inheritance_component {
            // The component loop adds the dispatch around the `__base` copy.
            return Value::Object(out);
        }
        let mut parts = vec![Value::Object(out)];
        parts.extend(self.dispatch(discriminator, &alternatives, None));
        json!({ "allOf": parts })
    }

    /// One `if/then` per discriminator value, plus an `anyOf` fallback for unmapped values.
    fn dispatch(
        &self,
        discriminator: &Value,
        alternatives: &[Value],
        owner: Option<&str>,
    ) -> Vec<Value> {
        let Some(property) = discriminator["propertyName"].as_str() else {
            return Vec::new();
        };
        let mapping = discriminator_mapping(discriminator, alternatives);
        let mut clauses: Vec<Value> = mapping
            .iter()
            .map(|(value, target)| {
                let target = match owner {
                    Some(o) if *target == schema_ref(o) => schema_ref(&format!("{o}{BASE_SUFFIX}")),
                    _ => target.clone(),
                };
                json!({
                    "if": { "properties": { property: { "const": value } }, "required": [property] },
                    "then": { "$ref": target },
                })
            })
            .collect();
        if !alternatives.is_empty() {
            let keys: Vec<&String> = mapping.keys().collect();
            clauses.push(json!({
                "if": { "properties": { property: { "enum": keys } }, "required": [property] },
                "else": { "anyOf": alternatives },
            }));
        }
        clauses
    }
}

/// The explicit mapping, else the implicit one (schema name) over referenced alternatives.
fn discriminator_mapping(
    discriminator: &Value,
    alternatives: &[Value],
) -> BTreeMap<String, String> {
    if let Some(mapping) = discriminator["mapping"].as_object() {
        return mapping
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|t| (k.clone(), normalise_ref(t))))
            .collect();
    }
    alternatives
        .iter()
        .filter_map(|a| a["$ref"].as_str())
        .filter_map(|r| {
            r.strip_prefix(SCHEMA_REF_PREFIX)
                .map(|n| (n.to_owned(), r.to_owned()))
        })
        .collect()
}

/// A mapping target may be a bare schema name.
fn normalise_ref(target: &str) -> String {
    if target.starts_with('#') {
        target.to_owned()
    } else {
        schema_ref(target)
    }
}

fn schema_ref(name: &str) -> String {
    format!("{SCHEMA_REF_PREFIX}{name}")
}

/// OpenAPI 3.0 boolean exclusive bounds become draft-7 numeric ones.
fn convert_exclusive_bounds(fields: &Map<String, Value>, out: &mut Map<String, Value>) {
    for (flag, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if fields.get(flag) != Some(&Value::Bool(true)) {
            continue;
        }
        if let Some(limit) = out.remove(bound) {
            out.insert(flag.into(), limit);
        }
    }
}

/// Lets `null` through a converted schema when the OpenAPI schema is `nullable`.
fn allow_null(schema: Value, nullable: bool) -> Value {
    if !nullable {
        return schema;
    }
    let Value::Object(mut fields) = schema else {
        return schema;
    };
    let composite = ["$ref", "allOf", "oneOf", "anyOf", "not"]
        .iter()
        .any(|k| fields.contains_key(*k));
    let simple_type = fields
        .get("type")
        .and_then(Value::as_str)
        .map(str::to_owned);
    match simple_type {
        Some(kind) if !composite => {
            fields.insert("type".into(), json!([kind, "null"]));
            if let Some(Value::Array(values)) = fields.get_mut("enum") {
                values.push(Value::Null);
            }
            Value::Object(fields)
        }
        // `if/else` rather than `anyOf` keeps the inner schema's errors precise.
        _ => json!({ "if": { "type": "null" }, "else": Value::Object(fields) }),
    }
}

/// An operation of the spec matched by a concrete request.
struct Operation<'a> {
    template: &'a str,
    method: String,
    definition: &'a Value,
}

impl Operation<'_> {
    fn id(&self) -> &str {
        self.definition["operationId"]
            .as_str()
            .unwrap_or("<no operationId>")
    }
}

/// Finds the operation for `method` whose path template matches `concrete_path`, preferring
/// templates with more literal segments.
fn find_operation<'a>(raw: &'a Value, method: &str, concrete_path: &str) -> Option<Operation<'a>> {
    let method = method.to_ascii_lowercase();
    let without_origin = match concrete_path.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => concrete_path,
    };
    let path = without_origin.split(['?', '#']).next().unwrap_or_default();
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let mut best: Option<(usize, Operation<'a>)> = None;
    for (template, item) in raw["paths"].as_object()? {
        let Some(definition) = item.get(&method) else {
            continue;
        };
        let Some(score) = template_score(template, &segments) else {
            continue;
        };
        if best.as_ref().is_some_and(|(s, _)| *s >= score) {
            continue;
        }
        let operation = Operation {
            template,
            method: method.clone(),
            definition,
        };
        best = Some((score, operation));
    }
    best.map(|(_, op)| op)
}

/// The number of literal segments when `template` matches `segments`, else `None`.
fn template_score(template: &str, segments: &[&str]) -> Option<usize> {
    let parts: Vec<&str> = template.trim_end_matches('/').split('/').collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut literals = 0;
    for (part, segment) in parts.iter().zip(segments) {
        match part.split_once('{') {
            None if part == segment => literals += 1,
            None => return None,
            Some((prefix, rest)) => {
                let suffix = rest.split_once('}').map_or("", |(_, s)| s);
                let fits = segment.len() > prefix.len() + suffix.len()
                    && segment.starts_with(prefix)
                    && segment.ends_with(suffix);
                if !fits {
                    return None;
                }
            }
        }
    }
    Some(literals)
}

/// The documented response for `status`: exact code, then `NXX`, then `default`.
fn find_response<'a>(
    raw: &'a Value,
    operation: &Operation<'a>,
    status: u16,
) -> Option<(String, &'a Value)> {
    let responses = &operation.definition["responses"];
    let keys = [
        status.to_string(),
        format!("{}XX", status / 100),
        "default".to_owned(),
    ];
    let key = keys.into_iter().find(|k| responses.get(k).is_some())?;
    let response = resolve_response(raw, &responses[&key]);
    Some((key, response))
}

fn resolve_response<'a>(raw: &'a Value, response: &'a Value) -> &'a Value {
    let name = response["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix(RESPONSE_REF_PREFIX));
    match name {
        Some(name) => &raw["components"]["responses"][name],
        None => response,
    }
}

/// The JSON media-type object of a response, if it documents a body.
fn json_content(response: &Value) -> Option<&Value> {
    let content = response["content"].as_object()?;
    content.get(JSON_MEDIA_TYPE).or_else(|| {
        content
            .iter()
            .find(|(k, _)| k.contains("json"))
            .map(|(_, v)| v)
    })
}

/// What a response body must conform to.
enum Expectation {
    /// A schema (OpenAPI form), keyed for the validator cache.
    Schema { key: String, schema: Value },
    /// A documented response without a body.
    NoBody,
    /// A documented JSON body without a schema: anything goes.
    Anything,
}

fn expectation(raw: &Value, operation: &Operation<'_>, status: u16) -> Result<Expectation, String> {
    let cache_key = |k: &str| format!("{} {} {k}", operation.method, operation.template);
    let recorded = RECORDED_STATUSES
        .iter()
        .any(|(method, template, recorded, _)| {
            operation.method.eq_ignore_ascii_case(method)
                && operation.template == *template
                && status == *recorded
        });
    if recorded {
        return Ok(Expectation::NoBody);
    }
    let Some((key, response)) = find_response(raw, operation, status) else {
        if status < FIRST_ERROR_STATUS {
            return Err(format!(
                "status {status} is not documented for this operation"
            ));
        }
        let schema = json!({ "$ref": schema_ref(ERROR_SCHEMA) });
        return Ok(Expectation::Schema {
            key: format!("error {ERROR_SCHEMA}"),
            schema,
        });
    };
    let Some(content) = json_content(response) else {
        return Ok(Expectation::NoBody);
    };
    match content.get("schema") {
        Some(schema) => Ok(Expectation::Schema {
            key: cache_key(&key),
            schema: schema.clone(),
        }),
        None => Ok(Expectation::Anything),
    }
}

/// The validator for one response schema, built once per binary.
fn validator(spec: &Spec, key: &str, schema: &Value) -> Result<Arc<jsonschema::Validator>, String> {
    let mut cache = spec
        .validators
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(found) = cache.get(key) {
        return Ok(Arc::clone(found));
    }
    let document = json!({
        "allOf": [spec.converter.schema(schema, None)],
        "components": { "schemas": spec.schemas.clone() },
    });
    let built = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&document)
        .map_err(|e| format!("the converted schema for {key} does not compile: {e}"))?;
    let built = Arc::new(built);
    cache.insert(key.to_owned(), Arc::clone(&built));
    Ok(built)
}

/// Runs a validator; every error names its JSON pointer as `at '<pointer>': <message>`.
fn check(validator: &jsonschema::Validator, body: &Value) -> Result<(), Vec<String>> {
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("at '{}': {e}", e.instance_path))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Validates a JSON response body against the operation that `method` and `concrete_path` match.
///
/// Returns every validation error, each naming its JSON pointer in the body, or a single error
/// when the operation or status is not documented.
pub fn validate(
    method: &str,
    concrete_path: &str,
    status: u16,
    body: &Value,
) -> Result<(), Vec<String>> {
    let spec = spec();
    let operation = find_operation(&spec.raw, method, concrete_path)
        .ok_or_else(|| vec![format!("no operation matches {method} {concrete_path}")])?;
    let expectation = expectation(&spec.raw, &operation, status).map_err(|e| vec![e])?;
    let (key, schema) = match expectation {
        Expectation::Anything => return Ok(()),
        Expectation::NoBody if body.is_null() => return Ok(()),
        Expectation::NoBody => return Err(vec![format!("status {status} documents no body")]),
        Expectation::Schema { key, schema } => (key, schema),
    };
    let validator = validator(spec, &key, &schema).map_err(|e| vec![e])?;
    check(&validator, body)
}

/// Compiles every converted component schema at once; `Err` names the compilation failure (e.g. a
/// `pattern` the regex engine rejects). A self-check of the conversion.
pub fn compile_all_components() -> Result<(), String> {
    let spec = spec();
    let names = spec
        .schemas
        .as_object()
        .map(|m| m.keys().collect::<Vec<_>>())
        .unwrap_or_default();
    let refs: Vec<Value> = names
        .iter()
        .map(|n| json!({ "$ref": schema_ref(n) }))
        .collect();
    validator(spec, "all components", &json!({ "anyOf": refs })).map(|_| ())
}

/// Validates `body` against one component schema, e.g. a request body such as `AppUser`.
pub fn validate_schema(schema_name: &str, body: &Value) -> Result<(), Vec<String>> {
    let spec = spec();
    if spec.schemas.get(schema_name).is_none() {
        return Err(vec![format!(
            "components.schemas.{schema_name} does not exist"
        )]);
    }
    let schema = json!({ "$ref": schema_ref(schema_name) });
    let validator =
        validator(spec, &format!("schema {schema_name}"), &schema).map_err(|e| vec![e])?;
    check(&validator, body)
}

/// Panics unless `body` conforms to the documented response of the matched operation; the message
/// names the operation id, the path template and every error with its JSON pointer.
pub fn assert_conforms(method: &str, concrete_path: &str, status: u16, body: &Value) {
    let Err(errors) = validate(method, concrete_path, status, body) else {
        return;
    };
    let operation = find_operation(&spec().raw, method, concrete_path);
    let (id, template) = operation
        .as_ref()
        .map_or(("<none>", "<none>"), |op| (op.id(), op.template));
    panic!(
        "{method} {concrete_path} -> {status} does not conform to operation {id} ({template}):\n  {}\nbody: {body}",
        errors.join("\n  ")
    );
}

/// The `operationId` of the operation matched by `method` and `concrete_path`.
pub fn operation_id(method: &str, concrete_path: &str) -> Option<String> {
    find_operation(&spec().raw, method, concrete_path).map(|op| op.id().to_owned())
}

/// The enum values of a component schema, e.g. `AppUserSyncState`.
///
/// Panics if the schema does not exist or has no enum (a test bug).
pub fn schema_enum(schema_name: &str) -> Vec<String> {
    let values = spec().raw["components"]["schemas"][schema_name]["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("components.schemas.{schema_name} must exist and have an enum"));
    values
        .iter()
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
        .collect()
}

/// The spec's own examples for a documented response, as `(name, value)` pairs.
///
/// `method` and `concrete_path` select the operation as in [`validate`]; an empty result means the
/// response documents no example.
pub fn response_examples(method: &str, concrete_path: &str, status: u16) -> Vec<(String, Value)> {
    let raw = &spec().raw;
    let Some(operation) = find_operation(raw, method, concrete_path) else {
        return Vec::new();
    };
    let Some(content) = find_response(raw, &operation, status).and_then(|(_, r)| json_content(r))
    else {
        return Vec::new();
    };
    let mut examples: Vec<(String, Value)> = content["examples"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(name, example)| {
            example_value(raw, example).map(|v| (name.clone(), v.clone()))
        })
        .collect();
    if let Some(example) = content.get("example") {
        examples.push(("example".to_owned(), example.clone()));
    }
    examples
}

fn example_value<'a>(raw: &'a Value, example: &'a Value) -> Option<&'a Value> {
    let example = match example["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix(EXAMPLE_REF_PREFIX))
    {
        Some(name) => &raw["components"]["examples"][name],
        None => example,
    };
    example.get("value")
}
