//! JSON as gomplate 3.11 reads and writes it: `data.JSON`/`json` decoding, and
//! `data.ToJSON`/`toJSON` encoding with ugorji's canonical JSON handle (sorted
//! keys, HTML characters escaped), plus `toJSONPretty`.
