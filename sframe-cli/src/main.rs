fn main() { eprintln!("sframe: not implemented yet (see the CLI issue)"); std::process::exit(2); }
