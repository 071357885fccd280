//! The reproducible tar stream of a bundle: ustar headers from the `tar`
//! crate with every varying field fixed (mtime 0, uid/gid 0, no user or
//! group names, modes 0644/0755), entry data streamed from readers, and the
//! [`Output`] the stream goes to: one file or numbered parts, each written
//! under a `.partial` name, hashed on the way and renamed when complete.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use registry::digest::Hasher;

use super::format;

const BLOCK: u64 = 512;

/// Writes tar entries to an [`Output`].
pub struct TarWriter {
    out: Output,
}

impl TarWriter {
    pub fn new(out: Output) -> TarWriter {
        TarWriter { out }
    }

    fn header(&mut self, name: &str, size: u64, dir: bool) -> Result<()> {
        let mut header = tar::Header::new_ustar();
        // The name as given (`set_path` would drop a directory's trailing `/`).
        let field = &mut header.as_ustar_mut().expect("a ustar header").name;
        if name.len() > field.len() {
            bail!("tar entry name {name} is longer than {} bytes", field.len());
        }
        field[..name.len()].copy_from_slice(name.as_bytes());
        header.set_size(size);
        header.set_mode(if dir { 0o755 } else { 0o644 });
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(if dir { tar::EntryType::Directory } else { tar::EntryType::Regular });
        header.set_cksum();
        self.out.write_all(header.as_bytes())
    }

    fn pad(&mut self, size: u64) -> Result<()> {
        let rest = (BLOCK - size % BLOCK) % BLOCK;
        self.out.write_all(&[0u8; BLOCK as usize][..rest as usize])
    }

    /// A file entry with `bytes`.
    pub fn file(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        self.header(name, bytes.len() as u64, false)?;
        self.out.write_all(bytes)?;
        self.pad(bytes.len() as u64)
    }

    /// A directory entry (`name` ends in `/`).
    pub fn dir(&mut self, name: &str) -> Result<()> {
        self.header(name, 0, true)
    }

    /// A file entry of exactly `size` bytes read from `reader`.
    pub fn stream(&mut self, name: &str, size: u64, reader: impl Read) -> Result<()> {
        self.header(name, size, false)?;
        let mut reader = reader.take(size);
        let mut buf = vec![0u8; 1 << 20];
        let mut copied = 0u64;
        loop {
            let n = reader.read(&mut buf).context("cannot read it")?;
            if n == 0 {
                break;
            }
            self.out.write_all(&buf[..n])?;
            copied += n as u64;
        }
        if copied != size {
            bail!("{copied} bytes where {size} were expected");
        }
        self.pad(size)
    }

    /// Ends the archive (two zero blocks) and renames the output into
    /// place; returns the `FILE.sha256` text.
    pub fn finish(mut self) -> Result<String> {
        self.out.write_all(&[0u8; 2 * BLOCK as usize])?;
        self.out.finish()
    }

    /// Removes what was written.
    pub fn abandon(self) {
        self.out.abandon();
    }
}

/// Where the tar goes: `FILE`, or `FILE.part000`, `FILE.part001`, … of at
/// most `max_size` bytes each.
pub struct Output {
    file: PathBuf,
    max_size: Option<u64>,
    whole: Hasher,
    /// The part being written, its hash and its length.
    current: Option<(BufWriter<File>, Hasher, u64)>,
    /// `(partial name, final name, sha256 hex)` of the parts done.
    done: Vec<(PathBuf, PathBuf, String)>,
}

impl Output {
    pub fn create(file: &Path, max_size: Option<u64>) -> Result<Output> {
        let mut out = Output { file: file.to_path_buf(), max_size, whole: Hasher::new(), current: None, done: Vec::new() };
        out.open_next()?;
        Ok(out)
    }

    /// The final name of output file `n`.
    fn name(&self, n: usize) -> PathBuf {
        final_name(&self.file, self.max_size, n)
    }

    fn partial(path: &Path) -> PathBuf {
        let mut name = path.as_os_str().to_owned();
        name.push(".partial");
        PathBuf::from(name)
    }

    fn open_next(&mut self) -> Result<()> {
        let n = self.done.len();
        let partial = Self::partial(&self.name(n));
        let file = File::create(&partial).with_context(|| format!("cannot write {}", partial.display()))?;
        self.current = Some((BufWriter::with_capacity(1 << 20, file), Hasher::new(), 0));
        Ok(())
    }

    fn close_current(&mut self) -> Result<()> {
        let Some((mut writer, hasher, _)) = self.current.take() else { return Ok(()) };
        let n = self.done.len();
        let (name, partial) = (self.name(n), Self::partial(&self.name(n)));
        writer
            .flush()
            .and_then(|()| writer.get_ref().sync_all())
            .with_context(|| format!("cannot write {}", partial.display()))?;
        self.done.push((partial, name, hasher.hex()));
        Ok(())
    }

    fn write_all(&mut self, mut bytes: &[u8]) -> Result<()> {
        self.whole.update(bytes);
        while !bytes.is_empty() {
            let (writer, hasher, length) = self.current.as_mut().expect("a part is open");
            let room = self.max_size.map_or(bytes.len() as u64, |max| max - *length).min(bytes.len() as u64) as usize;
            let (now, rest) = bytes.split_at(room);
            hasher.update(now);
            *length += now.len() as u64;
            let n = self.done.len();
            writer.write_all(now).with_context(|| format!("cannot write {}", Self::partial(&final_name(&self.file, self.max_size, n)).display()))?;
            bytes = rest;
            if self.max_size == Some(*length) {
                self.close_current()?;
                self.open_next()?;
            }
        }
        Ok(())
    }

    /// Closes the last file (an empty last part is dropped), removes the
    /// files of an earlier bundle of the same name, renames the new ones into
    /// place and writes `FILE.sha256`; returns its text.
    fn finish(mut self) -> Result<String> {
        if self.current.as_ref().is_some_and(|(_, _, length)| *length == 0) && !self.done.is_empty() {
            self.current = None;
            let _ = std::fs::remove_file(Self::partial(&self.name(self.done.len())));
        }
        self.close_current()?;
        // What an earlier run left under the final names.
        let _ = std::fs::remove_file(&self.file);
        for n in 0.. {
            let part = format::part_path(&self.file, n);
            if std::fs::remove_file(&part).is_err() && !part.exists() {
                break;
            }
        }
        let file_name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut text = format!("{}  {}\n", self.whole.clone().hex(), file_name(&self.file));
        for (partial, name, hex) in &self.done {
            std::fs::rename(partial, name).with_context(|| format!("cannot rename {} to {}", partial.display(), name.display()))?;
            if self.max_size.is_some() {
                text.push_str(&format!("{hex}  {}\n", file_name(name)));
            }
        }
        let sums = format::sha256_path(&self.file);
        let staging = Self::partial(&sums);
        std::fs::write(&staging, &text)
            .and_then(|()| std::fs::rename(&staging, &sums))
            .with_context(|| format!("cannot write {}", sums.display()))?;
        Ok(text)
    }

    fn abandon(mut self) {
        if self.current.is_some() {
            let _ = self.close_current();
        }
        for (partial, _, _) in &self.done {
            let _ = std::fs::remove_file(partial);
        }
    }
}

/// `file` itself, or its part `n` when the output is split.
fn final_name(file: &Path, max_size: Option<u64>, n: usize) -> PathBuf {
    match max_size {
        Some(_) => format::part_path(file, n),
        None => file.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(dir: &Path, max: Option<u64>) -> String {
        let mut tar = TarWriter::new(Output::create(&dir.join("b.tar"), max).unwrap());
        tar.file("oci-layout", b"{}").unwrap();
        tar.dir("blobs/").unwrap();
        tar.stream("blobs/x", 700, &[7u8; 700][..]).unwrap();
        tar.finish().unwrap()
    }

    #[test]
    fn parts_concatenated_are_the_whole_file_and_headers_are_fixed() {
        let dir = tempfile::tempdir().unwrap();
        let whole = bundle(dir.path(), None);
        let bytes = std::fs::read(dir.path().join("b.tar")).unwrap();
        assert_eq!(bytes.len(), 512 * 6 + 1024);
        let mut archive = tar::Archive::new(&bytes[..]);
        for entry in archive.entries().unwrap() {
            let h = entry.unwrap().header().clone();
            assert_eq!((h.mtime().unwrap(), h.uid().unwrap(), h.gid().unwrap()), (0, 0, 0));
            assert_eq!(h.username().unwrap(), Some(""));
            let mode = if h.entry_type().is_dir() { 0o755 } else { 0o644 };
            assert_eq!(h.mode().unwrap(), mode);
        }
        assert_eq!(&bytes[512 * 2..512 * 2 + 7], b"blobs/\0");
        let split = bundle(dir.path(), Some(1000));
        assert!(!dir.path().join("b.tar").exists(), "an earlier whole file is replaced by the parts");
        let mut joined = Vec::new();
        for n in 0..5 {
            joined.extend(std::fs::read(format::part_path(&dir.path().join("b.tar"), n)).unwrap());
        }
        assert!(!format::part_path(&dir.path().join("b.tar"), 5).exists());
        assert_eq!(joined, bytes);
        assert_eq!(split.lines().next(), whole.lines().next());
        assert_eq!(split.lines().count(), 6);
        assert_eq!(std::fs::read_to_string(format::sha256_path(&dir.path().join("b.tar"))).unwrap(), split);
    }

    #[test]
    fn a_short_reader_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut tar = TarWriter::new(Output::create(&dir.path().join("b.tar"), None).unwrap());
        let e = tar.stream("x", 10, &[1u8; 4][..]).unwrap_err();
        assert!(e.to_string().contains("4 bytes where 10"), "{e}");
        tar.abandon();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
