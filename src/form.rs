//! An ordered list of (name, value) byte strings, as produced by `formdecode`
//! and consumed by `formencode`.

/// One field. Both strings are stored with a trailing NUL that is not part of
/// their length, so the C layer can hand out pointers that are also C strings.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Field {
    name: Box<[u8]>,
    value: Box<[u8]>,
}

fn nul_terminated(bytes: &[u8]) -> Box<[u8]> {
    let mut stored = Vec::with_capacity(bytes.len() + 1);
    stored.extend_from_slice(bytes);
    stored.push(0);
    stored.into_boxed_slice()
}

fn without_nul(stored: &[u8]) -> &[u8] {
    &stored[..stored.len() - 1]
}

/// Fields keep their order; a name may appear more than once. A field's bytes
/// never move once added, so pointers to them stay valid while the form lives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Form {
    fields: Vec<Field>,
}

impl Form {
    pub fn new() -> Form {
        Form::default()
    }

    /// Appends a field.
    pub fn add(&mut self, name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        self.fields.push(Field {
            name: nul_terminated(name.as_ref()),
            value: nul_terminated(value.as_ref()),
        });
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The field at `index` as (name, value), without the stored NULs.
    pub fn field(&self, index: usize) -> Option<(&[u8], &[u8])> {
        self.fields
            .get(index)
            .map(|f| (without_nul(&f.name), without_nul(&f.value)))
    }

    /// Like `field`, but each slice ends with the stored NUL byte.
    pub fn field_with_nul(&self, index: usize) -> Option<(&[u8], &[u8])> {
        self.fields.get(index).map(|f| (&f.name[..], &f.value[..]))
    }

    /// The value of the last field called `name` (byte-exact match), with its
    /// trailing NUL.
    pub fn last_value_with_nul(&self, name: &[u8]) -> Option<&[u8]> {
        self.fields
            .iter()
            .rev()
            .find(|f| without_nul(&f.name) == name)
            .map(|f| &f.value[..])
    }

    /// The value of the last field called `name`, like Prosody's `form_data[name]`.
    pub fn get(&self, name: &[u8]) -> Option<&[u8]> {
        self.last_value_with_nul(name).map(without_nul)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.fields
            .iter()
            .map(|f| (without_nul(&f.name), without_nul(&f.value)))
    }
}
