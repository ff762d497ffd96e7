import { gidFromGuid, type GidSize, type ParticipantEntitiesInfo } from "./participant_entities_info.js";

/** One DDS reader or writer a node owns (topics, and the request/reply halves of services). */
export interface NodeEndpoint {
  readonly kind: "reader" | "writer";
  /** DDS GUID, hex. */
  readonly guid: string;
  /** DDS topic ("rt/chatter", "rq/set_specRequest"). */
  readonly ddsTopic: string;
  /** The ROS name it serves ("/chatter", "/set_spec"): what counters and logs name. */
  readonly rosName: string;
}

interface NodeRecord {
  readonly namespace: string;
  readonly name: string;
  readonly endpoints: Set<NodeEndpoint>;
}

/**
 * Which node owns which DDS endpoint in one participant: what rmw_dds_common's graph cache
 * keeps for the local participant, and what goes out on ros_discovery_info. Also answers which
 * nodes are on a topic, so a problem with the topic can be charged to them.
 */
export class NodeEntities<N> {
  private readonly nodes = new Map<N, NodeRecord>();

  addNode(node: N, namespace: string, name: string): void {
    if (!this.nodes.has(node)) this.nodes.set(node, { namespace, name, endpoints: new Set() });
  }

  removeNode(node: N): void {
    this.nodes.delete(node);
  }

  /** Records an endpoint of a known node; the returned function forgets it. */
  addEndpoint(node: N, endpoint: NodeEndpoint): () => void {
    const record = this.nodes.get(node);
    if (!record) return () => {};
    record.endpoints.add(endpoint);
    return () => {
      record.endpoints.delete(endpoint);
    };
  }

  /** Nodes with at least one endpoint on `ddsTopic`, and the ROS name they use it under. */
  nodesOn(ddsTopic: string): { node: N; rosName: string }[] {
    const out: { node: N; rosName: string }[] = [];
    for (const [node, record] of this.nodes) {
      for (const ep of record.endpoints) {
        if (ep.ddsTopic === ddsTopic) {
          out.push({ node, rosName: ep.rosName });
          break;
        }
      }
    }
    return out;
  }

  /** The ParticipantEntitiesInfo of this participant, nodes in creation order. */
  message(participantGuid: string, gidSize: GidSize): ParticipantEntitiesInfo {
    const nodeInfos = [...this.nodes.values()].map((r) => {
      const eps = [...r.endpoints];
      return {
        node_namespace: r.namespace,
        node_name: r.name,
        reader_gid_seq: eps.filter((e) => e.kind === "reader").map((e) => gidFromGuid(e.guid, gidSize)),
        writer_gid_seq: eps.filter((e) => e.kind === "writer").map((e) => gidFromGuid(e.guid, gidSize)),
      };
    });
    return { gid: gidFromGuid(participantGuid, gidSize), node_entities_info_seq: nodeInfos };
  }
}
