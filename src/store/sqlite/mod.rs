//! What only SQLite does: opening the file safely, its pragmas, and filling an import's
//! TEMP staging table with prepared inserts. Nothing outside this folder tunes SQLite.

pub mod staging;
