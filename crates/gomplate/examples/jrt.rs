fn main() {
    let text = std::fs::read_to_string(std::env::args().nth(1).unwrap()).unwrap();
    let v = gomplate::yaml::decode(&text).unwrap();
    let out = gomplate::json::encode_pretty("  ", &v).unwrap();
    println!("{}", if out == text.trim_end_matches('\n') { "SAME" } else { "DIFF" });
    if out != text.trim_end_matches('\n') { println!("{out}"); }
}
