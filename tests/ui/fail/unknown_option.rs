// A misspelt option is an error at the option, listing the ones that exist.
b24::api!("docs", skip_invalids);

fn main() {}
