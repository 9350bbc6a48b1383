// A misspelt `only` prefix is an error at the prefix, not an empty module.
b24::api!(env = "B24_UI_OUTDATED_PAGE", only = ["thing", "thing.od"]);

fn main() {}
