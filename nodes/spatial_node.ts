import { map } from "rxjs";
import type { TransportNode } from "../src/transport/port.js";
import { QOS_DEFAULT } from "../src/transport/qos.js";
import { Counters } from "../src/diagnostics/counters.js";
import type { Scene } from "../src/scene/scene_object.js";
import { answerQuestion } from "../src/spatial/answer_question.js";
import type * as M from "../src/msgs/generated.js";
import { T, answerToMsg, noSceneAnswer, sceneFromMsg } from "./messages.js";
import { DiagnosticsPublisher } from "./diagnostics_publisher.js";

/**
 * Spatial node: answers questions about the latest scene graph, as a service
 * (`spatial_query`, SpatialQuery.srv) and as a topic pair (`spatial/question` std_msgs/String
 * in, `spatial/answer` SpatialAnswer out). Every answer is counted by status.
 */
export class SpatialNode {
  readonly counters = new Counters();
  private scene: Scene | null = null;
  private readonly diagnostics: DiagnosticsPublisher;

  constructor(readonly node: TransportNode) {
    const frameId = String(node.declareParameter("frame_id", "spatial"));
    this.diagnostics = new DiagnosticsPublisher(node, "spatial", this.counters);
    node
      .observe<M.spatial_reward_msgs__msg__SceneObjects>(T.SceneObjects, "scene/objects", QOS_DEFAULT)
      .pipe(map(sceneFromMsg))
      .subscribe((scene) => {
        this.scene = scene;
        this.counters.inc("scenes_in");
      });
    const answerPub = node.createPublisher<M.spatial_reward_msgs__msg__SpatialAnswer>(T.SpatialAnswer, "spatial/answer", QOS_DEFAULT);
    node
      .observe<M.std_msgs__msg__String>(T.String, "spatial/question", QOS_DEFAULT)
      .pipe(map((msg) => this.answer(msg.data, frameId)))
      .subscribe((answer) => answerPub.publish(answer));
    node.createService<M.spatial_reward_msgs__srv__SpatialQuery_Request, M.spatial_reward_msgs__srv__SpatialQuery_Response>(
      T.SpatialQuery, "spatial_query", (req) => ({ answer: this.answer(req.question, frameId) }),
    );
  }

  answer(question: string, frameId: string): M.spatial_reward_msgs__msg__SpatialAnswer {
    const t0 = performance.now();
    this.counters.inc("questions");
    if (!this.scene) {
      this.counters.inc("answers.no_scene");
      return noSceneAnswer(question, frameId);
    }
    const a = answerQuestion(this.scene, question);
    this.counters.inc(`answers.${a.status}`);
    if (a.status !== "ok") this.diagnostics.lastError = a.text;
    this.diagnostics.latency.add(performance.now() - t0);
    return answerToMsg(a, this.scene.stamp, frameId);
  }
}
