use std::time::Instant;
fn main() {
    let text = std::fs::read_to_string("/tmp/gen/0.1.5/generator/default_values.yaml").unwrap();
    for _ in 0..3 {
        let t = Instant::now();
        let mut n = 0;
        for ev in saphyr_parser::Parser::new_from_str(&text) { ev.unwrap(); n += 1; }
        let p = t.elapsed();
        let t = Instant::now();
        let v = gomplate::yaml::decode(&text).unwrap();
        let d = t.elapsed();
        let t = Instant::now();
        let out = gomplate::yaml::encode(&v).unwrap();
        let e = t.elapsed();
        println!("events {n} parse {p:?} decode {d:?} encode {e:?} ({} bytes)", out.len());
    }
}
