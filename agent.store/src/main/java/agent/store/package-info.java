/**
 * The agent's durable command store: the state machine of docs/protocol.md §6, the result outbox and the events
 * waiting for the server (§9).
 */
@Export
@Version("2.0.0")
package agent.store;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
