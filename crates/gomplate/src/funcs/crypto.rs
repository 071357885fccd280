//! The `crypto` namespace's digests: `crypto.SHA1`, `SHA224`, `SHA256`,
//! `SHA384`, `SHA512` — lower-case hex of the input's bytes (nil hashes as
//! empty input, other values through `conv.ToString`).

use super::arity;
use super::conv::to_string;
use crate::error::FuncError;
use crate::value::Value;

/// gomplate's `toBytes`: nil is empty, everything else its string form.
pub(crate) fn to_bytes(v: &Value) -> Vec<u8> {
    if v.is_nil() {
        Vec::new()
    } else {
        to_string(v).into_bytes()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn digest<D: sha1::Digest>(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    Ok(Value::str(hex(&D::digest(to_bytes(&args[0])))))
}

/// `crypto.SHA1 INPUT`.
pub fn sha1(args: &[Value]) -> Result<Value, FuncError> {
    digest::<sha1::Sha1>(args)
}

/// `crypto.SHA224 INPUT`.
pub fn sha224(args: &[Value]) -> Result<Value, FuncError> {
    digest::<sha2::Sha224>(args)
}

/// `crypto.SHA256 INPUT`.
pub fn sha256(args: &[Value]) -> Result<Value, FuncError> {
    digest::<sha2::Sha256>(args)
}

/// `crypto.SHA384 INPUT`.
pub fn sha384(args: &[Value]) -> Result<Value, FuncError> {
    digest::<sha2::Sha384>(args)
}

/// `crypto.SHA512 INPUT`.
pub fn sha512(args: &[Value]) -> Result<Value, FuncError> {
    digest::<sha2::Sha512>(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_known_vectors() {
        let abc = [Value::str("abc")];
        assert_eq!(sha1(&abc).unwrap(), Value::str("a9993e364706816aba3e25717850c26c9cd0d89d"));
        assert_eq!(
            sha256(&abc).unwrap(),
            Value::str("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(
            sha224(&abc).unwrap(),
            Value::str("23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7")
        );
        assert_eq!(
            sha512(&abc).unwrap(),
            Value::str("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
        );
        // nil hashes as empty input
        assert_eq!(
            sha256(&[Value::Nil]).unwrap(),
            Value::str("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        // numbers hash their string form
        assert_eq!(sha1(&[Value::Int(1)]).unwrap(), sha1(&[Value::str("1")]).unwrap());
    }
}
