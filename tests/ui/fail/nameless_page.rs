// A page that names no method cannot be generated: the compile error names the file and line.
b24::api!(env = "B24_UI_NAMELESS_PAGE");

fn main() {}
