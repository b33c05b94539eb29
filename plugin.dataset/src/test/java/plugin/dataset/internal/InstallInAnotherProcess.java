package plugin.dataset.internal;

import java.nio.file.Path;

import agent.testkit.Outcome;
import agent.testkit.TestContext;

/**
 * An agent in a process of its own, for the test that kills one mid-download: runs one dataset.install with the
 * agent's real CommandContext and prints how it ended (if it ends).
 * Args: data dir, url, sha256, target, CA file.
 */
public final class InstallInAnotherProcess {
    private InstallInAnotherProcess() {}

    public static void main(String[] args) {
        DatasetInstaller d = new DatasetInstaller();
        d.paths = DatasetTestBase.paths(Path.of(args[0]));
        Outcome o = TestContext.forAction("dataset.install").param("name", "big").param("version", "1").param("url", args[1])
            .param("sha256", args[2]).param("target", args[3]).settings(DatasetTestBase.settings(args[4])).run(d);
        System.out.println(o);
    }
}
