fn main() -> std::process::ExitCode {
    anchorfin::cli::main()
}
