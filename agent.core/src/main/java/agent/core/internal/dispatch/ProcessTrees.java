package agent.core.internal.dispatch;

import java.util.ArrayList;
import java.util.List;

/** Kills a process and everything it started. */
final class ProcessTrees {
    private ProcessTrees() {}

    /**
     * SIGKILLs the process and its descendants. The tree is listed before anything is killed, so children
     * re-parented to init by their parent's death are still found by pid.
     */
    static void kill(ProcessHandle root) {
        for (int round = 0; round < 3; round++) {
            List<ProcessHandle> tree = new ArrayList<>();
            tree.add(root);
            root.descendants().forEach(tree::add);
            tree.forEach(ProcessHandle::destroyForcibly);
            if (root.descendants().findAny().isEmpty()) return;
        }
    }
}
