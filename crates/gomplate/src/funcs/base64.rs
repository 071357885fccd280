//! The `base64` namespace: `base64.Encode` (standard alphabet, padded) and
//! `base64.Decode` (standard alphabet, falling back to the URL alphabet, as
//! gomplate does; line breaks ignored like Go's decoder).

use super::arity;
use super::conv::to_string;
use super::crypto::to_bytes;
use crate::error::FuncError;
use crate::value::Value;

const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Standard padded base64.
pub fn encode_bytes(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(STD[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Padded base64 decoding with `alphabet`, skipping `\r` and `\n`; the error
/// carries the offending input offset as Go's `CorruptInputError` does.
fn decode_with(s: &str, alphabet: &[u8; 64]) -> Result<Vec<u8>, usize> {
    let chars: Vec<(usize, u8)> = s.bytes().enumerate().filter(|(_, c)| *c != b'\r' && *c != b'\n').collect();
    let mut out = Vec::with_capacity(chars.len() / 4 * 3);
    let mut i = 0;
    while i < chars.len() {
        let quantum = &chars[i..(i + 4).min(chars.len())];
        let mut vals = [0u32; 4];
        let mut n = 0;
        for (j, &(pos, c)) in quantum.iter().enumerate() {
            if c == b'=' {
                // padding: only in the last two places of the final quantum
                if j < 2 {
                    return Err(pos);
                }
                if j == 2 {
                    match quantum.get(3) {
                        None => return Err(s.len()),
                        Some(&(_, b'=')) => {}
                        Some(_) => return Err(pos),
                    }
                }
                if let Some(&(garbage, _)) = chars.get(i + 4) {
                    return Err(garbage);
                }
                break;
            }
            match alphabet.iter().position(|&a| a == c) {
                Some(v) => vals[j] = v as u32,
                None => return Err(pos),
            }
            n += 1;
        }
        if quantum.len() < 4 && n == quantum.len() {
            // unpadded trailing quantum: Go reports where it starts
            return Err(quantum[0].0);
        }
        let v = vals[0] << 18 | vals[1] << 12 | vals[2] << 6 | vals[3];
        let bytes = [(v >> 16) as u8, (v >> 8) as u8, v as u8];
        out.extend_from_slice(&bytes[..n.saturating_sub(1)]);
        i += 4;
    }
    Ok(out)
}

/// `base64.Encode INPUT`.
pub fn encode(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    Ok(Value::str(encode_bytes(&to_bytes(&args[0]))))
}

/// `base64.Decode INPUT`: the decoded bytes as a string.
pub fn decode(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    let s = to_string(&args[0]);
    let bytes = decode_with(&s, STD)
        .or_else(|_| decode_with(&s, URL))
        .map_err(|pos| FuncError::new(format!("illegal base64 data at input byte {pos}")))?;
    Ok(Value::str(String::from_utf8_lossy(&bytes).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::s;


    #[test]
    fn encode_like_go() {
        // RFC 4648 vectors
        for (i, o) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")] {
            assert_eq!(encode(&[s(i)]).unwrap(), s(o));
        }
        assert_eq!(encode(&[Value::Nil]).unwrap(), s(""));
        assert_eq!(encode(&[Value::Int(1)]).unwrap(), s("MQ=="));
    }

    #[test]
    fn decode_like_gomplate() {
        assert_eq!(decode(&[s("Zm9vYmFy")]).unwrap(), s("foobar"));
        assert_eq!(decode(&[s("Zm9vYg==")]).unwrap(), s("foob"));
        assert_eq!(decode(&[s("Zm9v\nYmE=")]).unwrap(), s("fooba"));
        // URL alphabet fallback
        assert_eq!(decode(&[s("_-8=")]).unwrap(), Value::str(String::from_utf8_lossy(&[0xff, 0xef])));
        assert_eq!(decode(&[s("Zm9v!")]).unwrap_err().message, "illegal base64 data at input byte 4");
        assert_eq!(decode(&[s("Zm9vYg")]).unwrap_err().message, "illegal base64 data at input byte 4");
        assert_eq!(decode(&[s("Zm9vY===")]).unwrap_err().message, "illegal base64 data at input byte 5");
        assert_eq!(decode(&[s("Zm9vYg=")]).unwrap_err().message, "illegal base64 data at input byte 7");
        assert_eq!(decode(&[s("Zm9vYg==Zm9v")]).unwrap_err().message, "illegal base64 data at input byte 8");
    }
}
