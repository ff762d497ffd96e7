import { randomBytes } from "node:crypto";
import { InvalidInputError, SpatialRewardError } from "../../errors.js";
import type { rcl_interfaces__msg__Log } from "../../msgs/generated.js";
import type { LogLevel, LogRecord, LogSink } from "../logger.js";
import { checkPositive, DEFAULT_CALL_TIMEOUT_MS, NodeBase } from "../node_base.js";
import type { NodeOptions, Publisher, ServiceClient, ServiceServer, Subscription } from "../port.js";
import { TransportBase } from "../transport_base.js";
import { QOS_DEFAULT, type QoS } from "../qos.js";
import { codecFor } from "./codec_cache.js";
import { cycloneDomainConfig, discoverySettingsFromEnv, type DiscoverySettings, type Environment } from "./discovery_config.js";
import { loadDdsBinding, type DdsBinding, type EndpointEvent } from "./native_binding.js";
import { NodeEntities, type NodeEndpoint } from "./node_entities.js";
import {
  gidSizeFromEnv, ParticipantEntitiesInfoCodec, PARTICIPANT_ENTITIES_INFO_TYPE, QOS_ROS_DISCOVERY_INFO, ROS_DISCOVERY_INFO_TOPIC, type GidSize,
} from "./participant_entities_info.js";
import { ddsReplyTopicName, ddsRequestTopicName, ddsTopicName, ddsTypeName } from "./ros_dds_names.js";
import { QOS_ROSOUT, ROSOUT_TOPIC, ROSOUT_TYPE, rosoutMessage } from "./rosout.js";
import { unwrapServiceSample, wrapServiceSample, type RequestId } from "./service_envelope.js";

export interface DdsTransportOptions {
  /** DDS domain; default ROS_DOMAIN_ID or 0. Network settings come from CYCLONEDDS_URI, as for ROS 2. */
  domainId?: number;
  /** The native binding; default the addon built in native/. */
  binding?: DdsBinding;
  /**
   * Publish every node's log records on /rosout (rcl_interfaces/msg/Log), as rcl does; false is
   * rcl's `--disable-rosout-logs`. Default true.
   */
  rosout?: boolean;
  /**
   * Where ROS_DOMAIN_ID, ROS_DISTRO, ROS_LOCALHOST_ONLY, ROS_AUTOMATIC_DISCOVERY_RANGE,
   * ROS_STATIC_PEERS, CYCLONEDDS_URI and SPATIAL_REWARD_DDS_GID_SIZE are read; default process.env.
   */
  environment?: Environment;
  /** GID layout on ros_discovery_info (24: Humble, 16: Iron and later); default from the environment. */
  gidSize?: GidSize;
}

/** Readers of lent subscriptions. */
const LEND = { lend: true } as const;

/** Services use reliable, volatile, keep-last 10 queues, as rmw's services default does. */
const QOS_SERVICES: QoS = { reliability: "reliable", durability: "volatile", history: "keep_last", depth: 10 };

function domainFromEnv(env: Environment): number {
  const raw = env.ROS_DOMAIN_ID;
  if (raw === undefined || raw === "") return 0;
  const d = Number(raw);
  if (!Number.isInteger(d) || d < 0 || d > 232) throw new InvalidInputError("bad_argument", `ROS_DOMAIN_ID must be an integer 0..232, got ${raw}`);
  return d;
}

function ddsError(e: unknown, what: string): SpatialRewardError {
  if (e instanceof SpatialRewardError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new SpatialRewardError("dds_error", `${what}: ${message}`);
}

/**
 * The DDS backend: one Cyclone DDS participant per transport, speaking the ROS 2 wire protocol
 * (rmw_cyclonedds names and CDR), so ROS 2 nodes, Cyclone or Fast DDS programs on the same
 * domain are peers. Messages are encoded to CDR in TypeScript; the addon carries bytes.
 *
 * As rmw_cyclonedds: the domain is configured from ROS_LOCALHOST_ONLY /
 * ROS_AUTOMATIC_DISCOVERY_RANGE / ROS_STATIC_PEERS before CYCLONEDDS_URI (discovery_config.ts);
 * the nodes and their readers and writers are announced on `ros_discovery_info` (so `ros2 node
 * list` shows them); each node's log records go to /rosout unless `rosout: false`.
 *
 * Counters (transport-wide): messages_published, messages_delivered, callback_errors,
 * errors.decode, errors.publish, errors.shm_chunk_refused (shared-memory chunks no reader of the
 * process got: lying chunk headers, another chunk-header version, a writer Cyclone does not know;
 * native/src/iox_take_guard.c, iox_errors.h), errors.type_mismatch (ours, or a peer's endpoint on one of our
 * topics with another type), dropped (queue overflow), lost (DDS SAMPLE_LOST, and over shared memory each overflow of iceoryx's queue), peers.endpoints_lost,
 * graph.announcements (ros_discovery_info samples sent), lent.reclaimed_by_gc (lent samples a
 * consumer dropped without releasing them; see sample_lending.ts).
 * Nodes count the same per topic: received.<topic> (of them lent_in_place.<topic>: lent straight
 * from the shared-memory chunk they came in, not copied), dropped.<topic>, lost.<topic>, and
 * errors.type_mismatch, errors.type_mismatch.<topic> for wrong types on topics they use; also
 * published.<topic>, and published_unmatched.<topic> for messages published on a volatile topic
 * while no reader was matched (not encoded nor written: nothing would have received them).
 */
export class DdsTransport extends TransportBase<DdsNode> {
  readonly name = "dds";
  /** @internal */ readonly binding: DdsBinding;
  /** @internal */ readonly participant: number;
  /** @internal */ readonly graph = new NodeEntities<DdsNode>();
  /** @internal */ readonly rosoutEnabled: boolean;
  /** What the environment asked for, as rcl reads it. */
  readonly discovery: DiscoverySettings;
  /** The Cyclone configuration the domain was created with (discovery fragment, then CYCLONEDDS_URI). */
  readonly domainConfig: string;
  /** The GID layout announced on ros_discovery_info. */
  readonly gidSize: GidSize;
  private readonly guid: string;
  private readonly topics = new Map<string, { handle: number; type: string }>();
  private readonly remote = new Map<string, EndpointEvent>();
  private readonly mismatchReported = new Set<string>();
  private readonly graphCodec: ParticipantEntitiesInfoCodec;
  private readonly graphWriter: number;
  private graphPending = false;
  private closed = false;
  /**
   * @internal Lent messages a consumer dropped without releasing them: their samples go back to
   * the pool when the message is collected. A lease released before is unknown by then (false).
   */
  readonly lentRegistry = new FinalizationRegistry<number>((lease) => {
    if (this.binding.releaseSample(lease)) this.counters.inc("lent.reclaimed_by_gc");
  });

  /** @internal The addon's process-wide count of shared-memory chunks iceoryx refused, as last counted here. */
  shmRefusedSeen = 0;

  constructor(options: DdsTransportOptions = {}) {
    super();
    const env = options.environment ?? process.env;
    this.binding = options.binding ?? loadDdsBinding();
    this.rosoutEnabled = options.rosout ?? true;
    this.gidSize = options.gidSize ?? gidSizeFromEnv(env);
    if (this.gidSize !== 16 && this.gidSize !== 24) throw new InvalidInputError("bad_argument", `gidSize must be 16 or 24, got ${String(this.gidSize)}`);
    this.graphCodec = new ParticipantEntitiesInfoCodec(this.gidSize);
    this.discovery = discoverySettingsFromEnv(env);
    this.domainConfig = cycloneDomainConfig(this.discovery, env.CYCLONEDDS_URI, process.pid);
    const domain = options.domainId ?? domainFromEnv(env);
    let participant = -1;
    try {
      participant = this.binding.createParticipant(domain, this.domainConfig);
      this.participant = participant;
      this.guid = this.binding.entityGuid(participant);
      this.binding.watchEndpoints(participant, "publication", (events) => this.onDiscovery(events));
      this.binding.watchEndpoints(participant, "subscription", (events) => this.onDiscovery(events));
      const topic = this.binding.createTopic(participant, ROS_DISCOVERY_INFO_TOPIC, PARTICIPANT_ENTITIES_INFO_TYPE);
      this.topics.set(ROS_DISCOVERY_INFO_TOPIC, { handle: topic, type: PARTICIPANT_ENTITIES_INFO_TYPE });
      this.graphWriter = this.binding.createWriter(participant, topic, QOS_ROS_DISCOVERY_INFO);
    } catch (e) {
      if (participant >= 0) this.binding.deleteEntity(participant);
      throw ddsError(e, `creating the DDS participant (domain ${domain})`);
    }
    for (const w of this.discovery.warnings) this.log("warn", w);
    this.publishGraph();
  }

  /** A record of the transport itself (not of a node) to the log sinks. */
  private log(level: LogLevel, message: string): void {
    const record: LogRecord = { level, name: "spatial_reward.dds", message, timeNs: BigInt(Date.now()) * 1_000_000n };
    for (const sink of this.logSinks) {
      try {
        sink(record);
      } catch {
        // As in SinkLogger: a broken sink must not break the transport.
      }
    }
  }

  protected makeNode(name: string, options: NodeOptions): DdsNode {
    if (this.closed) throw new InvalidInputError("bad_argument", "the dds transport was shut down");
    return new DdsNode(this, name, options);
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.destroyNodes();
    // Peers drop the whole participant from their graph when it goes; no last announcement needed.
    this.closed = true;
    this.binding.deleteEntity(this.participant);
    this.topics.clear();
  }

  /** Endpoints of other participants seen by discovery (alive ones). */
  remoteEndpoints(): EndpointEvent[] {
    return [...this.remote.values()];
  }

  /**
   * @internal The DDS topic, created on first use; one type per topic name, as in ROS 2. A node
   * asking for another type fails; it and the nodes already on the topic count the mismatch.
   */
  topic(ddsName: string, rosType: string, requester: DdsNode, rosName: string): number {
    const ddsType = ddsTypeName(rosType);
    const t = this.topics.get(ddsName);
    if (t) {
      if (t.type !== ddsType) {
        this.counters.inc("errors.type_mismatch");
        const cause = `local:${ddsName}:${ddsType}`;
        for (const { node, rosName: theirs } of this.graph.nodesOn(ddsName)) {
          if (node === requester) continue;
          node.noteTypeMismatch(cause, theirs, `another node of this process tried to use ${theirs} as ${ddsType}; it carries ${t.type} here`);
        }
        const message = `topic ${rosName} (${ddsName}) carries ${t.type}; cannot use it as ${ddsType}`;
        requester.noteTypeMismatch(cause, rosName, message, true);
        throw new SpatialRewardError("type_mismatch", message);
      }
      return t.handle;
    }
    let handle: number;
    try {
      handle = this.binding.createTopic(this.participant, ddsName, ddsType);
    } catch (e) {
      throw ddsError(e, `creating DDS topic ${ddsName} (${ddsType})`);
    }
    this.topics.set(ddsName, { handle, type: ddsType });
    for (const ep of this.remote.values()) this.checkType(ep);
    return handle;
  }

  private onDiscovery(events: EndpointEvent[]): void {
    for (const ep of events) {
      if (ep.participant === this.guid) continue;
      if (ep.alive) {
        this.remote.set(ep.key, ep);
        this.checkType(ep);
      } else if (this.remote.delete(ep.key)) {
        this.counters.inc("peers.endpoints_lost");
        // What was remembered about a gone endpoint goes with it: a peer creating and deleting
        // wrong-typed endpoints must not grow these sets for ever.
        if (this.mismatchReported.delete(ep.key)) {
          for (const { node } of this.graph.nodesOn(ep.topic)) node.forgetTypeMismatch(`peer:${ep.key}`);
        }
      }
    }
  }

  /**
   * A peer using one of our topics with another type never matches: counted once on the
   * transport, reported to onError once, and counted and logged once on each node on the topic.
   */
  private checkType(ep: EndpointEvent): void {
    const ours = this.topics.get(ep.topic);
    if (!ours || ours.type === ep.type) return;
    if (!this.mismatchReported.has(ep.key)) {
      this.mismatchReported.add(ep.key);
      this.counters.inc("errors.type_mismatch");
      this.reportError(
        new SpatialRewardError("type_mismatch", `a peer uses topic ${ep.topic} with type ${ep.type}; this node uses ${ours.type} (they will not communicate)`),
        ep.topic,
      );
    }
    for (const { node, rosName } of this.graph.nodesOn(ep.topic)) {
      node.noteTypeMismatch(
        `peer:${ep.key}`,
        rosName,
        `a peer endpoint (${ep.key}) uses ${rosName} with type ${ep.type}; this node uses ${ours.type}: they will not communicate`,
      );
    }
  }

  /** @internal A node got an endpoint on `ddsTopic`: peers already there with another type concern it too. */
  endpointAdded(ddsTopic: string): void {
    for (const ep of this.remote.values()) if (ep.topic === ddsTopic) this.checkType(ep);
    this.graphChanged();
  }

  /** @internal Nodes or endpoints changed: announce the new graph once the current task is done. */
  graphChanged(): void {
    if (this.graphPending || this.closed) return;
    this.graphPending = true;
    // Coalesced: a node creating ten endpoints sends one announcement, not ten.
    queueMicrotask(() => {
      this.graphPending = false;
      if (!this.closed) this.publishGraph();
    });
  }

  private publishGraph(): void {
    try {
      this.binding.write(this.graphWriter, this.graphCodec.encode(this.graph.message(this.guid, this.gidSize)));
      this.counters.inc("graph.announcements");
    } catch (e) {
      this.counters.inc("errors.publish");
      this.reportError(ddsError(e, `publishing ${ROS_DISCOVERY_INFO_TOPIC}`), ROS_DISCOVERY_INFO_TOPIC);
    }
  }
}

class DdsNode extends NodeBase {
  private readonly binding: DdsBinding;
  /** Endpoint handle → forgets it in the transport's graph. */
  private readonly endpoints = new Map<number, () => void>();
  /** Causes of type mismatches already logged (and, but for repeats, counted) on this node. */
  private readonly mismatches = new Set<string>();
  private rosout: ((record: LogRecord) => void) | undefined;

  constructor(
    private readonly bus: DdsTransport,
    name: string,
    options: NodeOptions,
  ) {
    // The node's logger copies its sinks now; the rosout one forwards to a publisher made below.
    const sinks: LogSink[] = [...bus.logSinks];
    const forward: { to?: (record: LogRecord) => void } = {};
    if (bus.rosoutEnabled) sinks.push((record) => forward.to?.(record));
    super(name, options, sinks);
    this.binding = bus.binding;
    bus.graph.addNode(this, this.namespace, this.name);
    bus.graphChanged();
    if (bus.rosoutEnabled) {
      try {
        const pub = this.createPublisher<rcl_interfaces__msg__Log>(ROSOUT_TYPE, ROSOUT_TOPIC, QOS_ROSOUT);
        this.rosout = (record) => pub.publish(rosoutMessage(record));
        forward.to = (record) => this.rosout?.(record);
      } catch (e) {
        // A node without /rosout still works; say why on the other sinks.
        this.nodeCounters.inc("errors.rosout");
        this.logger.error(`no /rosout publisher: ${(e as Error).message}`);
      }
    }
  }

  protected reportCallbackError(error: unknown, context: string): void {
    this.bus.reportCallbackError(error, context);
  }

  protected onDestroyed(): void {
    this.rosout = undefined;
    this.bus.graph.removeNode(this);
    this.bus.graphChanged();
    this.bus.forget(this);
  }

  /**
   * @internal A wrong type on a topic this node uses: counted as errors.type_mismatch and
   * errors.type_mismatch.<topic>, logged once per cause. `repeat` counts again a cause seen before.
   */
  noteTypeMismatch(cause: string, rosName: string, message: string, repeat = false): void {
    const seen = this.mismatches.has(cause);
    if (seen && !repeat) return;
    this.nodeCounters.inc("errors.type_mismatch");
    this.nodeCounters.inc(`errors.type_mismatch.${rosName}`);
    if (seen) return;
    this.mismatches.add(cause);
    this.logger.error(message);
  }

  /** @internal A mismatch cause that ended (the peer endpoint is gone). */
  forgetTypeMismatch(cause: string): void {
    this.mismatches.delete(cause);
  }

  /** Records a new endpoint in the graph (ros_discovery_info) and checks peers' types on its topic. */
  private track(handle: number, kind: NodeEndpoint["kind"], ddsTopic: string, rosName: string): void {
    let guid: string;
    try {
      guid = this.binding.entityGuid(handle);
    } catch (e) {
      this.binding.deleteEntity(handle);
      throw ddsError(e, `reading the GUID of a ${kind} on ${ddsTopic}`);
    }
    this.endpoints.set(handle, this.bus.graph.addEndpoint(this, { kind, guid, ddsTopic, rosName }));
    this.bus.endpointAdded(ddsTopic);
  }

  /** Deletes an endpoint made by writer() or reader() and takes it out of the graph. */
  private deleteEndpoint(handle: number): void {
    this.binding.deleteEntity(handle);
    const forget = this.endpoints.get(handle);
    this.endpoints.delete(handle);
    if (forget) {
      forget();
      this.bus.graphChanged();
    }
  }

  private writer(ddsTopic: string, rosType: string, qos: QoS, rosName: string): number {
    const topic = this.bus.topic(ddsTopic, rosType, this, rosName);
    let handle: number;
    try {
      handle = this.binding.createWriter(this.bus.participant, topic, qos);
    } catch (e) {
      throw ddsError(e, `creating a writer on ${ddsTopic}`);
    }
    this.track(handle, "writer", ddsTopic, rosName);
    return handle;
  }

  /**
   * A reader whose samples reach `onSample` one by one (with their lease: nonzero for a lent
   * sample, which onSample then owns), with overflow and loss counted under `context`.
   * `bodyOnly` (lent samples only): the sample was lent from a shared-memory chunk and its first
   * 4 bytes are not a CDR header; decode it with the header implied (AnyCodec.decode). Readers
   * that do not lend always get the header.
   */
  private reader(
    ddsTopic: string, rosType: string, qos: QoS, context: string, onSample: (bytes: Uint8Array, lease: number, bodyOnly: boolean) => void, lend = false,
  ): number {
    const topic = this.bus.topic(ddsTopic, rosType, this, context);
    let droppedSeen = 0;
    let lostSeen = 0;
    let handle = -1;
    const counters = this.nodeCounters;
    try {
      const options = lend ? LEND : undefined;
      handle = this.binding.createReader(this.bus.participant, topic, qos, (views, dropped, lost, leases, bodyOnly, shmRefused) => {
        // Runs from the addon's thread-safe function: nothing may escape.
        // Chunks of a foreign chunk-header version iceoryx dropped from some reader of this
        // process (which one it cannot say): counted transport-wide.
        if (shmRefused > this.bus.shmRefusedSeen) {
          this.bus.counters.inc("errors.shm_chunk_refused", shmRefused - this.bus.shmRefusedSeen);
          this.bus.shmRefusedSeen = shmRefused;
        }
        if (dropped > droppedSeen) {
          counters.inc(`dropped.${context}`, dropped - droppedSeen);
          this.bus.counters.inc("dropped", dropped - droppedSeen);
          droppedSeen = dropped;
        }
        // Samples DDS itself never completed (best-effort gaps, reliable data the writer's
        // history let go of before it was acknowledged): counted, as every other loss.
        if (lost > lostSeen) {
          counters.inc(`lost.${context}`, lost - lostSeen);
          this.bus.counters.inc("lost", lost - lostSeen);
          lostSeen = lost;
        }
        // views and leases are the addon's, reused for the next batch: read here only.
        for (let i = 0; i < views.length; i++) {
          try {
            onSample(views[i], leases[i], bodyOnly[i] === 1);
          } catch (e) {
            this.bus.reportError(e, context);
          }
        }
      }, options);
    } catch (e) {
      throw ddsError(e, `creating a reader on ${ddsTopic}`);
    }
    this.track(handle, "reader", ddsTopic, context);
    return handle;
  }

  createPublisher<T>(type: string, topic: string, qos: QoS = QOS_DEFAULT): Publisher<T> {
    this.alive();
    checkPositive("QoS depth", qos.depth);
    const name = this.resolve(topic);
    const codec = codecFor(type);
    const writer = this.writer(ddsTopicName(name), type, qos, name);
    const counters = this.nodeCounters;
    const bus = this.bus;
    const binding = this.binding;
    const publishedKey = `published.${name}`;
    const unmatchedKey = `published_unmatched.${name}`;
    // A volatile writer keeps nothing for readers that match later: with none matched now, the
    // message would reach no one, so it is neither encoded nor written (only counted).
    const volatile = qos.durability === "volatile";
    // Reused between messages: write() copies the bytes before it returns. Not sized first (that
    // walks the message twice): the writer grows a copy when it is too small, which is kept.
    let scratch = new ArrayBuffer(256);
    let live = true;
    const destroy = this.own(() => {
      live = false;
      this.deleteEndpoint(writer);
    });
    return {
      topic: name,
      type,
      qos,
      publish: (msg: T) => {
        if (!live) {
          counters.inc("publish_after_destroy");
          return;
        }
        if (volatile && binding.publicationMatched(writer) === 0) {
          counters.inc(publishedKey);
          counters.inc(unmatchedKey);
          bus.counters.inc("messages_published");
          return;
        }
        let bytes: Uint8Array;
        try {
          bytes = codec.encode(msg, scratch);
          if (bytes.buffer !== scratch) scratch = bytes.buffer as ArrayBuffer;
        } catch (e) {
          counters.inc("errors.encode");
          throw new InvalidInputError("bad_message", `cannot encode ${type} for ${name}: ${(e as Error).message}`);
        }
        try {
          binding.write(writer, bytes);
        } catch (e) {
          counters.inc("errors.publish");
          bus.counters.inc("errors.publish");
          throw ddsError(e, `publishing on ${name}`);
        }
        counters.inc(publishedKey);
        bus.counters.inc("messages_published");
      },
      subscriptionCount: () => (live ? binding.publicationMatched(writer) : 0),
      destroy,
    };
  }

  protected subscribe<T>(type: string, topic: string, qos: QoS, callback: (msg: T) => void, onDestroy: () => void): Subscription {
    return this.subscribeSamples(type, topic, qos, false, callback, onDestroy);
  }

  /** See SampleLending (sample_lending.ts): large samples are lent, `lease` nonzero. */
  createLentSubscription<T>(type: string, topic: string, qos: QoS, callback: (msg: T, lease: number) => void): Subscription {
    return this.subscribeSamples(type, topic, qos, true, callback, () => {});
  }

  /** Gives a lent sample back (see SampleLending); 0 and leases already returned do nothing. */
  releaseSample(lease: number): void {
    if (lease !== 0) this.binding.releaseSample(lease);
  }

  /** See SampleLending.reserveSamples. */
  reserveSamples(sampleBytes: number, count: number): number {
    if (!(Number.isFinite(sampleBytes) && sampleBytes >= 0 && Number.isInteger(count) && count >= 0 && count <= 64)) {
      throw new InvalidInputError("bad_argument", `reserveSamples: sampleBytes must be finite and >= 0, count an integer in 0..64 (got ${sampleBytes}, ${count})`);
    }
    return this.binding.poolReserve(Math.min(sampleBytes, 2 ** 30), count);
  }

  private subscribeSamples<T>(
    type: string, topic: string, qos: QoS, lend: boolean, callback: (msg: T, lease: number) => void, onDestroy: () => void,
  ): Subscription {
    this.alive();
    checkPositive("QoS depth", qos.depth);
    const name = this.resolve(topic);
    const codec = codecFor(type);
    const counters = this.nodeCounters;
    const bus = this.bus;
    const binding = this.binding;
    const receivedKey = `received.${name}`;
    const inPlaceKey = `lent_in_place.${name}`;
    let live = true;
    const reader = this.reader(ddsTopicName(name), type, qos, name, (bytes, lease, bodyOnly) => {
      if (!live) {
        if (lease !== 0) binding.releaseSample(lease);
        return;
      }
      let msg: T;
      try {
        msg = codec.decode(bytes, bodyOnly) as T;
      } catch (e) {
        // Nothing else saw the sample: it goes back at once.
        if (lease !== 0) binding.releaseSample(lease);
        counters.inc("errors.decode");
        bus.counters.inc("errors.decode");
        bus.reportError(new InvalidInputError("bad_message", `undecodable ${type} sample (${bytes.length} bytes) on ${name}: ${(e as Error).message}`), name);
        return;
      }
      counters.inc(receivedKey);
      if (bodyOnly) counters.inc(inPlaceKey);
      // From here the consumer owns the lease; if it drops the message unreleased, GC returns it.
      if (lease !== 0) bus.lentRegistry.register(msg as object, lease);
      try {
        callback(msg, lease);
        bus.counters.inc("messages_delivered");
      } catch (e) {
        counters.inc("callback_errors");
        bus.reportCallbackError(e, name);
      }
    }, lend);
    const destroy = this.own(() => {
      live = false;
      this.deleteEndpoint(reader);
      onDestroy();
    });
    return { topic: name, type, destroy };
  }

  createService<Req, Res>(type: string, name: string, handler: (request: Req) => Res | Promise<Res>): ServiceServer {
    this.alive();
    const full = this.resolve(name);
    const requestCodec = codecFor(`${type}_Request`);
    const responseCodec = codecFor(`${type}_Response`);
    const replies = this.writer(ddsReplyTopicName(full), `${type}_Response`, QOS_SERVICES, full);
    const counters = this.nodeCounters;
    const bus = this.bus;
    const binding = this.binding;
    let live = true;
    const serve = async (id: RequestId, request: Req): Promise<void> => {
      const response = await handler(request);
      if (!live) return;
      binding.write(replies, wrapServiceSample(id, responseCodec.encode(response)));
      counters.inc(`served.${full}`);
    };
    const requests = this.reader(ddsRequestTopicName(full), `${type}_Request`, QOS_SERVICES, full, (bytes) => {
      if (!live) return;
      const { id, message } = unwrapServiceSample(bytes);
      let request: Req;
      try {
        request = requestCodec.decode(message) as Req;
      } catch (e) {
        counters.inc("errors.decode");
        bus.counters.inc("errors.decode");
        throw new InvalidInputError("bad_message", `undecodable ${type} request on ${full}: ${(e as Error).message}`);
      }
      serve(id, request).catch((e: unknown) => {
        // ROS 2 services have no error reply: the client times out. Count and report it here.
        counters.inc("callback_errors");
        bus.reportCallbackError(e, full);
      });
    });
    const destroy = this.own(() => {
      live = false;
      this.deleteEndpoint(requests);
      this.deleteEndpoint(replies);
    });
    return { service: full, type, destroy };
  }

  createClient<Req, Res>(type: string, name: string): ServiceClient<Req, Res> {
    this.alive();
    const full = this.resolve(name);
    const requestCodec = codecFor(`${type}_Request`);
    const responseCodec = codecFor(`${type}_Response`);
    const clientId = new Uint8Array(randomBytes(8));
    const pending = new Map<bigint, { resolve: (r: Res) => void; reject: (e: unknown) => void }>();
    const counters = this.nodeCounters;
    const bus = this.bus;
    const binding = this.binding;
    let sequence = 0n;
    let live = true;
    const requests = this.writer(ddsRequestTopicName(full), `${type}_Request`, QOS_SERVICES, full);
    const replies = this.reader(ddsReplyTopicName(full), `${type}_Response`, QOS_SERVICES, full, (bytes) => {
      const { id, message } = unwrapServiceSample(bytes);
      // Every client of this service sees every reply; keep ours.
      if (!id.client.every((b, i) => b === clientId[i])) return;
      const waiter = pending.get(id.sequence);
      if (!waiter) {
        counters.inc("late_replies");
        return;
      }
      pending.delete(id.sequence);
      try {
        waiter.resolve(responseCodec.decode(message) as Res);
      } catch (e) {
        counters.inc("errors.decode");
        bus.counters.inc("errors.decode");
        waiter.reject(new InvalidInputError("bad_message", `undecodable ${type} reply on ${full}: ${(e as Error).message}`));
      }
    });
    const available = () => live && binding.publicationMatched(requests) > 0 && binding.readerStats(replies).matched > 0;
    const waitForService = async (timeoutMs: number): Promise<boolean> => {
      const deadline = Date.now() + Math.max(0, timeoutMs);
      while (!available()) {
        if (!live || Date.now() >= deadline) return false;
        await new Promise((r) => setTimeout(r, Math.min(20, Math.max(1, deadline - Date.now()))));
      }
      return true;
    };
    const destroy = this.own(() => {
      live = false;
      this.deleteEndpoint(requests);
      this.deleteEndpoint(replies);
      for (const w of pending.values()) w.reject(new SpatialRewardError("service_unavailable", `client of ${full} was destroyed`));
      pending.clear();
    });
    const call = async (request: Req, timeoutMs = DEFAULT_CALL_TIMEOUT_MS): Promise<Res> => {
      if (!live) throw new InvalidInputError("bad_argument", `client of ${full} was destroyed`);
      checkPositive("service call timeout (ms)", timeoutMs);
      const started = Date.now();
      if (!(await waitForService(timeoutMs))) {
        counters.inc("service_unavailable");
        throw new SpatialRewardError("service_unavailable", `service ${full} (${type}) not available after ${timeoutMs} ms`);
      }
      const seq = ++sequence;
      const answer = new Promise<Res>((resolve, reject) => pending.set(seq, { resolve, reject }));
      try {
        binding.write(requests, wrapServiceSample({ client: clientId, sequence: seq }, requestCodec.encode(request)));
      } catch (e) {
        pending.delete(seq);
        throw ddsError(e, `calling ${full}`);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          pending.delete(seq);
          counters.inc("service_timeouts");
          reject(new SpatialRewardError("timeout", `service ${full} did not answer within ${timeoutMs} ms`));
        }, Math.max(0, timeoutMs - (Date.now() - started)));
      });
      try {
        return await Promise.race([answer, timeout]);
      } finally {
        clearTimeout(timer);
      }
    };
    return { service: full, type, call, waitForService, destroy };
  }
}
