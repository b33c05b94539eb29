package plugin.files.internal;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import agent.api.Actions;
import agent.api.AgentPaths;
import agent.api.CommandContext;
import agent.api.CommandException;
import agent.api.CommandHandler;
import agent.api.CommandRefusedException;
import agent.api.ConcurrencyKey;
import agent.api.DryRun;
import agent.api.ErrorCode;
import agent.api.InvalidParamException;
import agent.api.Params;
import agent.api.ServerFiles;
import agent.api.SettingsType;

/**
 * {@code file.put}: writes a file from {@code content}, {@code contentBase64} or {@code url} + {@code sha256} into a
 * temporary file in the target's directory, fsyncs it, gives it its owner, group and mode, keeps the previous file as
 * {@code path.outpost-bak}, renames it into place and fsyncs the directory. The same content and metadata change
 * nothing. Every step inside the directory goes through the directory held open by {@link SecureTree} and through the
 * temporary file's own descriptor, so the policy checked on the real path is the policy of the place written.
 */
@Component
@Actions("file.put")
@ConcurrencyKey("file")
@DryRun
@SettingsType(FileSettings.class)
public final class FilePut implements CommandHandler {
    static final String BACKUP_SUFFIX = ".outpost-bak";
    /** The longest file name Linux filesystems take. */
    static final int NAME_MAX = 255;
    /** A diff is for reading: larger texts are said to differ, not shown line by line. */
    static final int MAX_DIFF_INPUT = 1 << 20;
    static final int MAX_DIFF_OUTPUT = 256 * 1024;
    private static final Pattern SHA256 = Pattern.compile("[0-9a-fA-F]{64}");
    private static final SecureRandom RANDOM = new SecureRandom();

    @Reference
    AgentPaths paths;

    /** The agent's server, for relative URLs; none in offline mode. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile ServerFiles server;

    private volatile Fetch fetch;

    /** What to write: bytes from the command, or a URL and the digest its body must have. */
    private record Source(byte[] bytes, URI url, String sha256) {
        boolean fetched() { return url != null; }
    }

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        FileSettings settings = ctx.settings(FileSettings.class);
        PathPolicy policy = PathPolicy.of(settings, paths, System.getenv());
        Params p = ctx.params();
        Path requested = policy.checkRequested("path", p.string("path"));
        Source source = source(p);
        Optional<Integer> mode = Meta.parseMode("mode", p.optionalString("mode"));
        Optional<UserPrincipal> owner = Meta.user("owner", p.optionalString("owner"));
        Optional<GroupPrincipal> group = Meta.group("group", p.optionalString("group"));
        boolean backup = p.bool("backup", true);
        boolean createDirs = p.bool("createDirs", false);
        String name = requested.getFileName().toString();
        if (backup && (name + BACKUP_SUFFIX).getBytes(StandardCharsets.UTF_8).length > NAME_MAX) {
            throw new InvalidParamException("path", "names a file whose backup name would be longer than " + NAME_MAX
                + " bytes; give backup: false or a shorter name");
        }
        ctx.checkCancelled();

        List<String> madeDirs = new ArrayList<>();
        SecureTree.DirMaker maker = !createDirs ? null : (dir, dirPath, dirName) -> {
            Path made = dirPath.resolve(dirName);
            policy.check("path", requested, made);
            if (ctx.dryRun()) return false; // a dry run stops at the first missing directory
            SecureTree.mkdir(dir, dirName, "rwxr-xr-x");
            madeDirs.add(made.toString());
            ctx.output().println("created directory " + made + " (0755)");
            return true;
        };
        SecureTree.Located loc;
        try {
            loc = SecureTree.locate(requested, true, maker);
        } catch (NoSuchFileException e) {
            throw new CommandException("cannot write " + requested + ": " + e.getFile() + " does not exist"
                + (createDirs ? "" : " (createDirs: true makes missing directories)") + ". Nothing was changed.", ErrorCode.NOT_FOUND);
        } catch (NotDirectoryException e) {
            throw new CommandException("cannot write " + requested + ": " + e.getFile() + " is not a directory. Nothing was changed.");
        } catch (FileSystemException e) {
            throw new CommandException("cannot write " + requested + ": " + e.getMessage() + ". Nothing was changed.");
        }
        try (loc) {
            Path real = loc.realPath();
            policy.check("path", requested, real);
            if (!loc.below.isEmpty()) return dryRunOfNew(ctx, requested, real, source, mode, owner, group, loc.dirPath.resolve(loc.name));
            if (loc.exists() && !loc.attrs.isRegularFile()) {
                throw new CommandRefusedException("param 'path': " + real + " is " + (loc.attrs.isDirectory() ? "a directory" : "not a regular file")
                    + "; file.put writes regular files only");
            }
            Existing existing = loc.exists() ? Existing.read(loc, source.fetched() ? 0 : MAX_DIFF_INPUT) : null;
            String newSha = source.fetched() ? source.sha256 : sha256(source.bytes);
            long newSize = source.fetched() ? -1 : source.bytes.length;
            int targetMode = mode.orElse(existing != null ? existing.meta.mode() : 0644);
            UserPrincipal targetOwner = owner.orElse(existing != null ? existing.meta.owner() : null);
            GroupPrincipal targetGroup = group.orElse(existing != null ? existing.meta.group() : null);
            boolean sameContent = existing != null && existing.sha256.equals(newSha);
            boolean sameMeta = existing != null && existing.meta.mode() == targetMode
                && (owner.isEmpty() || existing.meta.owner().equals(owner.get()))
                && (group.isEmpty() || existing.meta.group().equals(group.get()));

            Map<String, Object> data = new LinkedHashMap<>();
            data.put("path", requested.toString());
            data.put("realPath", real.toString());
            if (sameContent && sameMeta) {
                ctx.output().println(real + " already has this content, mode and owner; nothing to change");
                data.put("changed", false);
                data.put("created", false);
                data.put("sha256", existing.sha256);
                data.putAll(existing.meta.toData());
                data.put("backup", null);
                return data;
            }
            if (ctx.dryRun()) {
                data.put("changed", true);
                data.put("created", existing == null);
                data.put("sha256", newSha);
                data.put("size", sameContent ? (Object) existing.meta.size() : newSize < 0 ? null : (Object) newSize);
                data.put("mode", Meta.octal(targetMode));
                data.put("owner", targetOwner == null ? null : targetOwner.getName());
                data.put("group", targetGroup == null ? null : targetGroup.getName());
                data.put("backup", backup && existing != null ? real + BACKUP_SUFFIX : null);
                data.put("contentChanged", !sameContent);
                putDiff(data, existing == null ? null : existing.text, source, requested.toString());
                data.put("dryRun", true);
                ctx.output().println("would " + (existing == null ? "create " : "replace ") + real
                    + (sameContent ? " (same content, new mode or owner)" : ""));
                return data;
            }
            Written w = write(ctx, loc, source, settings, existing, targetOwner, targetGroup, targetMode, backup);
            data.put("changed", true);
            data.put("created", existing == null);
            data.put("sha256", w.sha256);
            data.putAll(w.meta.toData());
            data.put("backup", w.backup);
            if (!madeDirs.isEmpty()) data.put("createdDirs", madeDirs);
            ctx.output().println("wrote " + real + " (" + w.meta.size() + " bytes, sha256 " + w.sha256 + ", "
                + w.meta.modeText() + " " + w.meta.owner().getName() + ":" + w.meta.group().getName() + ")"
                + (w.backup == null ? "" : "; the previous file is " + w.backup));
            return data;
        }
    }

    private Object dryRunOfNew(CommandContext ctx, Path requested, Path real, Source source, Optional<Integer> mode,
            Optional<UserPrincipal> owner, Optional<GroupPrincipal> group, Path firstMissing) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("path", requested.toString());
        data.put("realPath", real.toString());
        data.put("changed", true);
        data.put("created", true);
        data.put("sha256", source.fetched() ? source.sha256 : sha256(source.bytes));
        data.put("size", source.fetched() ? null : (long) source.bytes.length);
        data.put("mode", Meta.octal(mode.orElse(0644)));
        data.put("owner", owner.map(UserPrincipal::getName).orElse(null));
        data.put("group", group.map(GroupPrincipal::getName).orElse(null));
        data.put("backup", null);
        data.put("contentChanged", true);
        data.put("createdDirs", List.of(firstMissing.toString()));
        putDiff(data, null, source, requested.toString());
        data.put("dryRun", true);
        ctx.output().println("would create " + firstMissing + " and the directories below it, then " + real);
        return data;
    }

    private static void putDiff(Map<String, Object> data, String oldText, Source source, String label) {
        if (source.fetched()) {
            data.put("diff", null);
            data.put("diffNote", "the content of a url is not fetched in a dry run");
            return;
        }
        String newText = utf8(source.bytes);
        if (newText == null || source.bytes.length > MAX_DIFF_INPUT || (data.get("created") != Boolean.TRUE && oldText == null)) {
            data.put("diff", null);
            data.put("diffNote", "binary or larger than " + MAX_DIFF_INPUT + " bytes: no text diff");
            return;
        }
        String diff = UnifiedDiff.diff(oldText, newText, label, label);
        if (diff.length() > MAX_DIFF_OUTPUT) {
            data.put("diff", diff.substring(0, MAX_DIFF_OUTPUT));
            data.put("diffNote", "cut at " + MAX_DIFF_OUTPUT + " characters");
        } else {
            data.put("diff", diff);
        }
    }

    /** What a write left: the new file's digest and metadata, and the backup's path. */
    private record Written(String sha256, Meta meta, String backup) {}

    private Written write(CommandContext ctx, SecureTree.Located loc, Source source, FileSettings settings, Existing existing,
            UserPrincipal owner, GroupPrincipal group, int mode, boolean backup) throws Exception {
        String tmp = tempName(loc.name, "");
        Set<OpenOption> create = Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        boolean moved = false;
        // O_CREAT|O_EXCL|O_NOFOLLOW relative to the open directory, owner-only until its metadata is set
        try (SeekableByteChannel sbc = loc.dir.newByteChannel(Path.of(tmp), create,
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
            FileChannel ch = (FileChannel) sbc;
            Path fd = ProcFd.byUniqueName(loc.dirPath, tmp);
            String sha;
            if (source.fetched()) {
                ctx.output().println("downloading " + Fetch.shown(source.url));
                Fetch.Got got;
                if (source.url.isAbsolute()) {
                    got = fetch(settings).download(ctx, source.url, ch, settings.maxDownloadBytes());
                } else {
                    ServerFiles files = server;
                    if (files == null) {
                        throw new CommandRefusedException("param 'url': '" + source.url.getRawPath() + "' is a path on the agent's"
                            + " server, and this agent runs without one (offline mode); give an https URL. Nothing was changed.",
                            ErrorCode.REFUSED);
                    }
                    got = Fetch.fromServer(ctx, files, source.url, ch, settings.maxDownloadBytes());
                }
                if (!got.sha256().equals(source.sha256)) {
                    throw new CommandException("download of " + Fetch.shown(source.url) + " has sha256 " + got.sha256() + ", not the "
                        + source.sha256 + " asked for (" + got.size() + " bytes). Nothing was changed.");
                }
                sha = got.sha256();
            } else {
                ByteBuffer bb = ByteBuffer.wrap(source.bytes);
                while (bb.hasRemaining()) ch.write(bb);
                sha = sha256(source.bytes);
            }
            ch.force(true);
            // through the descriptor: whatever someone renames in the directory meanwhile, these reach our file
            Meta.apply(fd, owner, group, mode);
            Meta meta = Meta.read(fd, true);
            String backupPath = null;
            if (backup && existing != null) backupPath = backup(loc, existing);
            ctx.checkCancelled();
            loc.dir.move(Path.of(tmp), loc.dir, Path.of(loc.name)); // renameat within the open directory
            moved = true;
            BasicFileAttributes now = loc.lstat();
            if (now == null || !meta.fileKey().equals(now.fileKey())) {
                throw new CommandException(loc.realPath() + " was replaced by someone else right after it was written: another"
                    + " process writes in " + loc.dirPath + ". Check the file.");
            }
            loc.syncDir();
            return new Written(sha, meta, backupPath);
        } finally {
            if (!moved) deleteQuietly(loc.dir, tmp);
        }
    }

    /** Copies the current file to {@code name.outpost-bak} (temporary file, fsync, rename), with its owner and mode. */
    private static String backup(SecureTree.Located loc, Existing existing) throws IOException {
        String tmp = tempName(loc.name, "bak-");
        String target = loc.name + BACKUP_SUFFIX;
        boolean moved = false;
        Set<OpenOption> create = Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        try (SeekableByteChannel out = loc.dir.newByteChannel(Path.of(tmp), create,
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
             SeekableByteChannel in = loc.dir.newByteChannel(Path.of(loc.name),
                 Set.<OpenOption>of(StandardOpenOption.READ, java.nio.file.LinkOption.NOFOLLOW_LINKS))) {
            Path fd = ProcFd.byUniqueName(loc.dirPath, tmp);
            ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
            while (in.read(buf) > 0) {
                buf.flip();
                while (buf.hasRemaining()) out.write(buf);
                buf.clear();
            }
            ((FileChannel) out).force(true);
            Meta.apply(fd, existing.meta.owner(), existing.meta.group(), existing.meta.mode());
            loc.dir.move(Path.of(tmp), loc.dir, Path.of(target));
            moved = true;
            return loc.dirPath.resolve(target).toString();
        } finally {
            if (!moved) deleteQuietly(loc.dir, tmp);
        }
    }

    private static void deleteQuietly(SecureDirectoryStream<Path> dir, String name) {
        try {
            dir.deleteFile(Path.of(name));
        } catch (IOException e) {
            // gone already, or never made
        }
    }

    /** A hidden name next to the target, random so that no one can guess it and prepare something there. */
    static String tempName(String name, String kind) {
        byte[] r = new byte[12];
        RANDOM.nextBytes(r);
        String suffix = ".outpost-" + kind + HexFormat.of().formatHex(r);
        String base = "." + name;
        int room = NAME_MAX - suffix.length();
        while (base.getBytes(StandardCharsets.UTF_8).length > room) base = base.substring(0, base.length() - 1);
        return base + suffix;
    }

    private Fetch fetch(FileSettings settings) throws CommandException {
        Fetch f = fetch;
        if (f == null || !f.uses(settings.caFile())) {
            f = Fetch.create(settings.caFile());
            fetch = f;
        }
        return f;
    }

    private static Source source(Params p) throws InvalidParamException {
        int given = (p.has("content") ? 1 : 0) + (p.has("contentBase64") ? 1 : 0) + (p.has("url") ? 1 : 0);
        if (given != 1) {
            throw new InvalidParamException(given == 0 ? "content" : "url", "give exactly one of content (text), contentBase64 or url"
                + " (with sha256), got " + given);
        }
        Optional<String> sha = p.optionalString("sha256");
        if (sha.isPresent() && !SHA256.matcher(sha.get()).matches()) {
            throw new InvalidParamException("sha256", "must be 64 hex digits, got '" + PathPolicy.escape(sha.get()) + "'");
        }
        if (p.has("url")) {
            String text = p.string("url");
            URI url;
            try {
                url = new URI(text);
            } catch (URISyntaxException e) {
                throw new InvalidParamException("url", "is not a URL: " + e.getMessage());
            }
            if (!url.isAbsolute()) {
                // docs/protocol.md §7.1: a path on the agent's server, fetched through the agent with its credentials
                if (url.getRawAuthority() != null || url.getRawPath() == null || !url.getRawPath().startsWith("/")) {
                    throw new InvalidParamException("url", "must be an https URL or a path on the agent's server (starting with"
                        + " '/'), got '" + PathPolicy.escape(text) + "'");
                }
            } else if (!"https".equalsIgnoreCase(url.getScheme()) || url.getHost() == null) {
                throw new InvalidParamException("url", "must be an https URL with a host, got scheme '" + url.getScheme() + "'");
            }
            if (sha.isEmpty()) throw new InvalidParamException("sha256", "is required with url (the digest the download must have)");
            return new Source(null, url, sha.get().toLowerCase(java.util.Locale.ROOT));
        }
        byte[] bytes;
        if (p.has("content")) {
            bytes = p.string("content").getBytes(StandardCharsets.UTF_8);
        } else {
            try {
                bytes = Base64.getDecoder().decode(p.string("contentBase64"));
            } catch (IllegalArgumentException e) {
                throw new InvalidParamException("contentBase64", "is not valid base64: " + e.getMessage());
            }
        }
        if (sha.isPresent() && !sha.get().equalsIgnoreCase(sha256(bytes))) {
            throw new InvalidParamException("sha256", "does not match the content given (its sha256 is " + sha256(bytes) + ")");
        }
        return new Source(bytes, null, null);
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    /** @return the bytes as text if they are UTF-8 without NUL characters, else null */
    static String utf8(byte[] bytes) {
        try {
            String s = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
            return s.indexOf('\0') >= 0 ? null : s;
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** The file being replaced: its metadata, digest, and text if it is small text. */
    record Existing(Meta meta, String sha256, String text) {
        static Existing read(SecureTree.Located loc, int maxText) throws IOException, CommandException {
            try (SeekableByteChannel in = loc.dir.newByteChannel(Path.of(loc.name),
                    Set.<OpenOption>of(StandardOpenOption.READ, java.nio.file.LinkOption.NOFOLLOW_LINKS))) {
                Path fd = ProcFd.byIdentity(loc.attrs.fileKey()).orElseThrow(() -> new CommandException(loc.realPath()
                    + " changed while it was opened; another process writes in " + loc.dirPath + ". Nothing was changed."));
                Meta meta = Meta.read(fd, true);
                MessageDigest sha = MessageDigest.getInstance("SHA-256");
                ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
                java.io.ByteArrayOutputStream keep = meta.size() <= maxText ? new java.io.ByteArrayOutputStream() : null;
                while (in.read(buf) > 0) {
                    buf.flip();
                    sha.update(buf.duplicate());
                    if (keep != null) keep.write(buf.array(), 0, buf.limit());
                    buf.clear();
                }
                return new Existing(meta, HexFormat.of().formatHex(sha.digest()), keep == null ? null : utf8(keep.toByteArray()));
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("every JVM has SHA-256", e);
            }
        }
    }
}
