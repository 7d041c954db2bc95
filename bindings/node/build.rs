//! Sets the linker arguments a Node addon needs on the target platform.
fn main() {
    napi_build::setup();
}
