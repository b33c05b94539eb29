/**
 * The agent's durable command store: the state machine of PROTOCOL.md §6 and the result outbox.
 */
@Export
@Version("1.1.0")
package agent.store;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
