//! What the `Env` runners accept as a command line: a string split on whitespace
//! (`env.ok("membership upgrade --level silver")`), or a slice, array or vector when an
//! argument holds spaces (`env.ok(&["init", "--name", "Contoso Ltd", …])`).

/// A command line for the binary. Arrays and vectors are taken by reference only, as the
/// runners always took them (`env.ok(&[…])`): with an impl for the owned array too, clippy's
/// `needless_borrows_for_generic_args` would flag every existing call.
pub trait Args {
    fn into_args(self) -> Vec<String>;
}

impl Args for &str {
    fn into_args(self) -> Vec<String> {
        self.split_whitespace().map(str::to_owned).collect()
    }
}

impl Args for String {
    fn into_args(self) -> Vec<String> {
        self.as_str().into_args()
    }
}

impl Args for &String {
    fn into_args(self) -> Vec<String> {
        self.as_str().into_args()
    }
}

impl Args for &[&str] {
    fn into_args(self) -> Vec<String> {
        self.iter().map(|a| (*a).to_owned()).collect()
    }
}

impl<const N: usize> Args for &[&str; N] {
    fn into_args(self) -> Vec<String> {
        self[..].into_args()
    }
}

impl Args for &Vec<&str> {
    fn into_args(self) -> Vec<String> {
        self[..].into_args()
    }
}

impl Args for &[String] {
    fn into_args(self) -> Vec<String> {
        self.to_vec()
    }
}

impl<const N: usize> Args for &[String; N] {
    fn into_args(self) -> Vec<String> {
        self.to_vec()
    }
}

impl Args for &Vec<String> {
    fn into_args(self) -> Vec<String> {
        self.clone()
    }
}

impl Args for &[&String] {
    fn into_args(self) -> Vec<String> {
        self.iter().map(|a| (*a).clone()).collect()
    }
}

impl<const N: usize> Args for &[&String; N] {
    fn into_args(self) -> Vec<String> {
        self[..].into_args()
    }
}
