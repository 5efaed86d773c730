fn main() {
    println!("remediator: not yet implemented");
}
