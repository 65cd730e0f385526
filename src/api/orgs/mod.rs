mod create;

pub use create::create;
