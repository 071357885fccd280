fn main() {
    let text = std::fs::read_to_string(std::env::args().nth(1).unwrap()).unwrap();
    for ev in saphyr_parser::Parser::new_from_str(&text) {
        match ev {
            Ok((e, s)) => println!("{:?} @{}:{}-{}:{}", e, s.start.line(), s.start.col(), s.end.line(), s.end.col()),
            Err(e) => { println!("ERR {} @{}:{}", e.info(), e.marker().line(), e.marker().col()); break; }
        }
    }
}
