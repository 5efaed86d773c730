fn main() {
    println!("okta-sim: not yet implemented");
}
