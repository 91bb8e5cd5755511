//! Files holding secrets, written to a temporary sibling and named only after the commit
//! ([`Staged`]), and the temporary files killed commands left behind ([`leftovers`]): each
//! offered locked, so two commands never decide about the same one.

use super::*;

fn try_lock(file: &File) -> bool {
    // SAFETY: flock on a descriptor we own; no memory is involved.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

/// A temporary file left by a killed command, locked while the caller decides what it
/// is: [`Leftover::complete`] gives it its final name (its transaction had committed),
/// [`Leftover::remove`] deletes it (it had not).
pub struct Leftover {
    path: PathBuf,
    file: File,
}

impl Leftover {
    /// The temporary file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file, open for reading (and locked).
    pub fn file(&self) -> &File {
        &self.file
    }

    /// The name the file was meant to have: `.NAME.competency-tmp` → `NAME`.
    pub fn final_path(&self) -> PathBuf {
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = name
            .strip_prefix('.')
            .and_then(|n| n.strip_suffix(TEMP_SUFFIX))
            .unwrap_or(&name);
        self.path.with_file_name(name)
    }

    /// Deletes the temporary file; returns its path.
    pub fn remove(self) -> Result<PathBuf> {
        fs::remove_file(&self.path)
            .with_context(|| format!("cannot remove {}", self.path.display()))?;
        Ok(self.path)
    }

    /// Gives the temporary file its final name, or the first free numbered one
    /// (`NAME-2.csv`…) when that is taken, never replacing a file; syncs the folder.
    /// Returns the final path.
    pub fn complete(self) -> Result<PathBuf> {
        let dest = Dest::Free(self.final_path());
        let path = link_free(&self.path, &dest, 1)?;
        fs::remove_file(&self.path)
            .with_context(|| format!("cannot remove {}", self.path.display()))?;
        sync_dir(&folder_of(&path))?;
        Ok(path)
    }
}

/// Links `temp` to the first free candidate of `dest` from the `first`-th on, never
/// replacing a file (a file system without hard links: renamed, having checked the name
/// is free). Returns the name given.
fn link_free(temp: &Path, dest: &Dest, first: u32) -> Result<PathBuf> {
    let mut n = first;
    while let Some(path) = dest.candidate(n) {
        match fs::hard_link(temp, &path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == ErrorKind::AlreadyExists && matches!(dest, Dest::Free(_)) => {
                n += 1;
            }
            Err(e) if e.kind() != ErrorKind::AlreadyExists && path.symlink_metadata().is_err() => {
                fs::rename(temp, &path)
                    .map_err(|e| anyhow!("cannot name {}: {}", path.display(), io_reason(&e)))?;
                return Ok(path);
            }
            Err(e) => {
                return Err(anyhow!("cannot name {}: {}", path.display(), io_reason(&e)));
            }
        }
    }
    Err(anyhow!("no free name beside {}", dest.path().display()))
}

/// The temporary files in `dir` left by killed commands: ours (suffix, owner, a regular
/// file), not locked by a running command, and not brand new and empty. Each is returned
/// locked, so no other command decides about it meanwhile.
pub fn leftovers(dir: &Path) -> Vec<Leftover> {
    let mut found = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return found;
    };
    // SAFETY: geteuid cannot fail.
    let uid = unsafe { libc::geteuid() };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !name.starts_with('.') || !name.ends_with(TEMP_SUFFIX) {
            continue;
        }
        let path = entry.path();
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        let old = meta
            .modified()
            .ok()
            .and_then(|m| {
                crate::support::clock::file_time_now()
                    .duration_since(m)
                    .ok()
            })
            .is_some_and(|age| age >= STALE_AFTER);
        // A writer locks its file before writing a byte: unlocked with content, it is dead.
        // An empty unlocked file may be a brand-new one not locked yet.
        if !meta.is_file() || meta.uid() != uid || !(old || meta.len() > 0) {
            continue;
        }
        let Ok(f) = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&path)
        else {
            continue;
        };
        // Locked: a running command is still writing it. Once locked here, the name must
        // still be this file, with no other name (another command may have completed or
        // removed it, and a new one taken the name, between the listing and the lock).
        if !try_lock(&f) {
            continue;
        }
        let same = match (f.metadata(), fs::symlink_metadata(&path)) {
            (Ok(open), Ok(now)) => {
                open.dev() == now.dev() && open.ino() == now.ino() && open.nlink() == 1
            }
            _ => false,
        };
        if same {
            found.push(Leftover { path, file: f });
        }
    }
    found
}

/// A file of secrets being written: a locked temporary sibling (0600, created new, not
/// through a link) that becomes the final file only with [`Staged::keep`], after the
/// commit; dropped without it, the temporary file is deleted.
pub struct Staged {
    file: Option<File>,
    temp: PathBuf,
    dest: Dest,
    /// The final name as foreseen at creation (the one the audit records).
    path: PathBuf,
    kept: bool,
}

impl Staged {
    /// Creates the temporary file for `dest`, each name passing [`guard_output`] first: an
    /// explicit path that is the database, a link, a FIFO, a device, a folder or an
    /// existing file is refused; a default name taken by any of them is passed over for
    /// the next one. Temporary files left by killed commands are the caller's to settle
    /// first: only the database knows whether theirs committed ([`leftovers`]).
    pub fn create(dest: Dest, db: &Path, what: &str) -> Result<Staged> {
        let mut n = 1;
        while let Some(path) = dest.candidate(n) {
            n += 1;
            let free = match (guard_output(&path, db, what), &dest) {
                (Ok(found), _) => found == Found::Nothing,
                (Err(_), Dest::Free(_)) => false,
                (Err(e), Dest::Exact(_)) => return Err(e),
            };
            if !free {
                if matches!(dest, Dest::Free(_)) {
                    continue;
                }
                return Err(create_error(
                    &std::io::Error::from(ErrorKind::AlreadyExists),
                    &path,
                    what,
                ));
            }
            let temp = temp_path(&path);
            match create_private(&temp) {
                Ok(file) => {
                    try_lock(&file);
                    return Ok(Staged {
                        file: Some(file),
                        temp,
                        dest,
                        path,
                        kept: false,
                    });
                }
                // Another command is writing the same name right now.
                Err(e) if exists_error(&e) && matches!(dest, Dest::Free(_)) => continue,
                Err(e) if exists_error(&e) => {
                    return Err(refused(format!(
                        "another competency command is writing {what} {} (its temporary file \
                         {} exists): try again when it is done",
                        path.display(),
                        temp.display()
                    )));
                }
                Err(e) => return Err(create_error(&e, &path, what)),
            }
        }
        Err(anyhow!(
            "no free name for {what} beside {}",
            dest.path().display()
        ))
    }

    /// The final path foreseen.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The temporary file being written.
    pub fn temp(&self) -> &Path {
        &self.temp
    }

    /// The open file.
    pub fn file(&self) -> &File {
        self.file.as_ref().expect("staged file open")
    }

    /// Gives the temporary file its final name without ever replacing a file (a hard link,
    /// then the temporary name is removed) and syncs the folder. For a default name taken
    /// meanwhile, the next free one is used. Returns the final path.
    pub fn keep(mut self) -> Result<PathBuf> {
        let mut path = self.path.clone();
        let mut n = 1;
        loop {
            match fs::hard_link(&self.temp, &path) {
                Ok(()) => break,
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    if matches!(self.dest, Dest::Exact(_)) {
                        self.kept = true;
                        return Err(anyhow!(
                            "{} appeared meanwhile: the file was left at {}",
                            path.display(),
                            self.temp.display()
                        ));
                    }
                    // Candidates 1..=n are taken; try the next one after the foreseen.
                    n += 1;
                    match self.dest.candidate(n) {
                        Some(p) => path = p,
                        None => {
                            self.kept = true;
                            return Err(anyhow!(
                                "no free name beside {}: the file was left at {}",
                                self.path.display(),
                                self.temp.display()
                            ));
                        }
                    }
                }
                // A file system without hard links: rename, having checked the name is free.
                Err(_) if path.symlink_metadata().is_err() => {
                    fs::rename(&self.temp, &path).map_err(|e| {
                        self.kept = true;
                        anyhow!(
                            "cannot name {}: {}; the file was left at {}",
                            path.display(),
                            io_reason(&e),
                            self.temp.display()
                        )
                    })?;
                    break;
                }
                Err(e) => {
                    self.kept = true;
                    return Err(anyhow!(
                        "cannot name {}: {}; the file was left at {}",
                        path.display(),
                        io_reason(&e),
                        self.temp.display()
                    ));
                }
            }
        }
        let _ = fs::remove_file(&self.temp);
        self.kept = true;
        self.file.take();
        sync_dir(&folder_of(&path))?;
        Ok(path)
    }
}

impl Staged {
    /// Leaves the temporary file where it is, unlocked, for a later command to settle
    /// ([`leftovers`]): the transaction's outcome is unknown, so neither deleting it nor
    /// naming it is right yet. Returns its path.
    pub fn leave(mut self) -> PathBuf {
        self.kept = true;
        self.file.take();
        self.temp.clone()
    }
}

impl Drop for Staged {
    /// Not kept: the transaction did not commit; the secrets must not stay on disk.
    fn drop(&mut self) {
        if !self.kept {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_files_appear_only_when_kept_and_never_replace_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("c.db");
        let want = dir.path().join("creds.csv");
        let s = Staged::create(Dest::Free(want.clone()), &db, "the file").unwrap();
        assert!(s.temp().exists() && !want.exists());
        drop(s);
        assert!(!temp_path(&want).exists() && !want.exists());
        fs::write(&want, "mine").unwrap();
        let s = Staged::create(Dest::Free(want.clone()), &db, "the file").unwrap();
        assert_eq!(s.path(), dir.path().join("creds-2.csv"));
        // Someone takes the foreseen name meanwhile: the next free one is used.
        fs::write(dir.path().join("creds-2.csv"), "theirs").unwrap();
        let kept = s.keep().unwrap();
        assert_eq!(kept, dir.path().join("creds-3.csv"));
        assert_eq!(fs::read_to_string(&want).unwrap(), "mine");
        assert!(Staged::create(Dest::Exact(want.clone()), &db, "the file").is_err());
    }

    #[test]
    fn stale_temporary_files_are_offered_locked_unless_locked_or_new() {
        let dir = tempfile::tempdir().unwrap();
        let old = crate::support::clock::file_time_now() - Duration::from_secs(3600);
        let stale = dir.path().join(format!(".a.csv{TEMP_SUFFIX}"));
        fs::File::create(&stale).unwrap().set_modified(old).unwrap();
        let busy = dir.path().join(format!(".b.csv{TEMP_SUFFIX}"));
        let held = fs::File::create(&busy).unwrap();
        held.set_modified(old).unwrap();
        assert!(try_lock(&held));
        let fresh = dir.path().join(format!(".c.csv{TEMP_SUFFIX}"));
        fs::File::create(&fresh).unwrap();
        let written = dir.path().join(format!(".e.csv{TEMP_SUFFIX}"));
        fs::write(&written, "username\n").unwrap();
        let other = dir.path().join(".d.csv.tmp");
        fs::File::create(&other).unwrap().set_modified(old).unwrap();
        let mut found: Vec<Leftover> = leftovers(dir.path());
        found.sort_by(|a, b| a.path().cmp(b.path()));
        let paths: Vec<&Path> = found.iter().map(Leftover::path).collect();
        assert_eq!(paths, vec![stale.as_path(), written.as_path()]);
        // Locked while decided: a second look does not offer them again.
        assert!(leftovers(dir.path()).is_empty());
        let mut found = found.into_iter();
        assert_eq!(found.next().unwrap().remove().unwrap(), stale);
        // Completed under its final name, or the next free one when that is taken.
        fs::write(dir.path().join("e.csv"), "mine").unwrap();
        let done = found.next().unwrap().complete().unwrap();
        assert_eq!(done, dir.path().join("e-2.csv"));
        assert_eq!(fs::read_to_string(&done).unwrap(), "username\n");
        assert_eq!(
            fs::read_to_string(dir.path().join("e.csv")).unwrap(),
            "mine"
        );
        assert!(!stale.exists() && !written.exists());
        assert!(busy.exists() && fresh.exists() && other.exists());
    }
}
