//! The `kind`-tagged JSON form of messages.
//!
//! Library messages serialize with serde's external tagging, which works without `alloc`:
//! `{"unlock":{"board":1,"lock":1}}`. Tools and scripts read better with the variant as a field,
//! `{"kind":"unlock","board":1,"lock":1}`; these two functions convert between the forms.

use serde_json::{Map, Value};

/// `{"variant":{fields}}` → `{"kind":"variant", fields}`; `"variant"` → `{"kind":"variant"}`.
pub fn to_kind_tagged(value: Value) -> Value {
    match value {
        Value::String(kind) => {
            let mut map = Map::new();
            map.insert("kind".into(), Value::String(kind));
            Value::Object(map)
        }
        Value::Object(outer) if outer.len() == 1 => {
            let Some((kind, inner)) = outer.into_iter().next() else { return Value::Null };
            let mut map = Map::new();
            map.insert("kind".into(), Value::String(kind));
            match inner {
                Value::Object(fields) => map.extend(fields),
                other => {
                    map.insert("value".into(), other);
                }
            }
            Value::Object(map)
        }
        other => other,
    }
}

/// The inverse of [`to_kind_tagged`].
pub fn from_kind_tagged(value: Value) -> Result<Value, String> {
    let Value::Object(mut fields) = value else {
        return Err("a message must be a JSON object with a \"kind\" field".into());
    };
    let kind = match fields.remove("kind") {
        Some(Value::String(kind)) => kind,
        _ => return Err("the message has no string \"kind\" field".into()),
    };
    if fields.is_empty() {
        return Ok(Value::String(kind));
    }
    let inner = match fields.remove("value") {
        Some(value) if fields.is_empty() => value,
        Some(value) => {
            fields.insert("value".into(), value);
            Value::Object(fields)
        }
        None => Value::Object(fields),
    };
    let mut outer = Map::new();
    outer.insert(kind, inner);
    Ok(Value::Object(outer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_struct_and_unit_variants() {
        for external in [json!({"unlock": {"board": 1, "lock": 2}}), json!("query_all")] {
            let tagged = to_kind_tagged(external.clone());
            assert!(tagged.get("kind").is_some());
            assert_eq!(from_kind_tagged(tagged).unwrap(), external);
        }
    }

    #[test]
    fn rejects_untagged() {
        assert!(from_kind_tagged(json!({"board": 1})).is_err());
        assert!(from_kind_tagged(json!([1])).is_err());
    }
}
