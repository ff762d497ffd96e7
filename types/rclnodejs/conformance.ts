/**
 * Compiled only by tsconfig.rclnodejs.json, with rclnodejs's own type definitions and the
 * message shim (interfaces.d.ts here). Every call the backend makes through RclnodejsLike is
 * made here on the real rclnodejs types, so a changed signature or a message type rclnodejs
 * would not accept fails CI. (Whole-object assignability would not work: TypeScript cannot
 * relate rclnodejs's overloaded generic methods to plain signatures.)
 */
import * as rclnodejs from "rclnodejs";
import type { RclnodejsLike, RclNodeLike } from "../../src/transport/rclnodejs/rclnodejs_like.js";
import type * as M from "../../src/msgs/generated.js";

export function nodeAsLike(n: rclnodejs.Node): RclNodeLike {
  return {
    createPublisher: (typeClass, topic, options) => n.createPublisher(typeClass, topic, options),
    createSubscription: (typeClass, topic, options, callback) => n.createSubscription(typeClass, topic, options, callback),
    createService: (typeClass, name, options, callback) => n.createService(typeClass, name, options, callback),
    createClient: (typeClass, name, options) => n.createClient(typeClass, name, options),
    destroyPublisher: (p) => n.destroyPublisher(p as rclnodejs.Publisher<M.MessageTypeName>),
    destroySubscription: (s) => n.destroySubscription(s as rclnodejs.Subscription),
    destroyService: (s) => n.destroyService(s as rclnodejs.Service),
    destroyClient: (c) => n.destroyClient(c as rclnodejs.Client<M.ServiceTypeName>),
    declareParameter: (p) => n.declareParameter(p as rclnodejs.Parameter),
    hasParameter: (name) => n.hasParameter(name),
    addOnSetParametersCallback: (cb) => n.addOnSetParametersCallback((ps) => cb(ps)),
    spin: (timeout) => n.spin(timeout),
    getLogger: () => n.getLogger(),
    destroy: () => n.destroy(),
  };
}

export function moduleAsLike(m: typeof rclnodejs): RclnodejsLike {
  return {
    init: (context, argv) => m.init(context, argv),
    shutdown: () => m.shutdown(),
    Node: class {
      constructor(name: string, namespace?: string) {
        return nodeAsLike(new m.Node(name, namespace));
      }
    } as unknown as RclnodejsLike["Node"],
    Parameter: class {
      constructor(name: string, type: number, value?: unknown) {
        return new m.Parameter(name, type as rclnodejs.ParameterType, value);
      }
    } as unknown as RclnodejsLike["Parameter"],
    QoS: class {
      constructor(history?: 1 | 2, depth?: number, reliability?: 1 | 2, durability?: 1 | 2) {
        return new m.QoS(history, depth, reliability, durability);
      }
    } as unknown as RclnodejsLike["QoS"],
  };
}

/** Our message objects are exactly what rclnodejs's typed publishers and services take. */
export function usesOurTypes(n: rclnodejs.Node, image: M.sensor_msgs__msg__Image, reward: M.spatial_reward_msgs__msg__Reward): void {
  n.createPublisher("sensor_msgs/msg/Image", "camera/color/image_raw").publish(image);
  n.createPublisher("spatial_reward_msgs/msg/Reward", "reward").publish(reward);
  n.createSubscription("sensor_msgs/msg/CameraInfo", "camera/color/camera_info", (info: M.sensor_msgs__msg__CameraInfo) => void info.k);
  n.createService("spatial_reward_msgs/srv/SpatialQuery", "spatial_query", (req, res) => {
    const q: string = req.question;
    res.send({ answer: {} as M.spatial_reward_msgs__msg__SpatialAnswer });
    void q;
  });
}
