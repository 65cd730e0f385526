/// mimalloc instead of the system allocator: a request allocates many
/// small short-lived buffers (headers, JSON, rows) on several threads, and
/// glibc's malloc spent about a tenth of the server's CPU on them
/// (docs/BENCHMARKS.md, "Instructions per request").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    anchorfin::cli::main()
}
