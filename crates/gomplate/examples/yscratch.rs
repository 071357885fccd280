fn main() {
    let args: Vec<String> = std::env::args().collect();
    let text = std::fs::read_to_string(&args[1]).unwrap();
    match gomplate::yaml::decode(&text) {
        Ok(v) => { println!("{:?}", v); print!("{}", gomplate::yaml::encode(&v).unwrap()); }
        Err(e) => println!("ERR {e} (line {})", e.line),
    }
}
