// The 3D viewer: a GLB (y-up, as text3d writes it) under orbit controls, with a wireframe
// toggle and a background color. It renders on demand (after a load, a setting or a camera
// move), never in a loop, so an idle page costs no CPU on a machine without a GPU.

import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';

const FIT_MARGIN = 1.35;  // camera distance over the distance at which the bounding sphere just fills the view

export class Viewer {
  constructor(container) {
    this.container = container;
    // preserveDrawingBuffer: a screenshot or toDataURL reads the last frame, not a cleared buffer
    this.renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    container.appendChild(this.renderer.domElement);
    this.scene = new THREE.Scene();
    this.camera = new THREE.PerspectiveCamera(35, 1, 0.01, 1000);
    this.scene.add(this.camera);
    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x707070, 2.2));
    const key = new THREE.DirectionalLight(0xffffff, 2.0);  // follows the camera: the lit side faces the user
    key.position.set(1.5, 2.5, 3.0);
    this.camera.add(key);
    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.addEventListener('change', () => this.render());
    this.model = null;
    this.wireframe = false;
    this.home = null;
    new ResizeObserver(() => this.resize()).observe(container);
    this.resize();
  }

  resize() {
    const width = this.container.clientWidth || 1;
    const height = this.container.clientHeight || 1;
    this.renderer.setSize(width, height);
    this.camera.aspect = width / height;
    this.camera.updateProjectionMatrix();
    this.render();
  }

  render() {
    this.renderer.render(this.scene, this.camera);
  }

  setBackground(color) {
    this.scene.background = new THREE.Color(color);
    this.render();
  }

  setWireframe(on) {
    this.wireframe = on;
    this.forEachMaterial((material) => { material.wireframe = on; });
    this.render();
  }

  forEachMaterial(visit) {
    if (!this.model) return;
    this.model.traverse((node) => {
      if (!node.isMesh) return;
      for (const material of [].concat(node.material)) visit(material);
    });
  }

  // Show the GLB in `buffer` (an ArrayBuffer), replacing the previous model.
  async load(buffer) {
    const gltf = await new GLTFLoader().parseAsync(buffer, '');
    this.clear();
    this.model = gltf.scene;
    this.scene.add(this.model);
    this.forEachMaterial((material) => {
      material.side = THREE.DoubleSide;  // generated meshes are not always closed
      material.wireframe = this.wireframe;
    });
    this.fit();
    return this.model;
  }

  clear() {
    if (!this.model) return;
    this.scene.remove(this.model);
    this.model.traverse((node) => {
      if (node.geometry) node.geometry.dispose();
      if (node.material) [].concat(node.material).forEach((m) => m.dispose());
    });
    this.model = null;
    this.render();
  }

  // Aim at the model's bounding sphere from a three-quarter view above it.
  fit() {
    const sphere = new THREE.Box3().setFromObject(this.model).getBoundingSphere(new THREE.Sphere());
    const radius = Math.max(sphere.radius, 1e-6);
    const halfFov = THREE.MathUtils.degToRad(this.camera.fov / 2);
    const distance = FIT_MARGIN * radius / Math.sin(Math.min(halfFov, halfFov * this.camera.aspect));
    const direction = new THREE.Vector3(1, 0.6, 1.4).normalize();
    this.home = { target: sphere.center.clone(), position: sphere.center.clone().addScaledVector(direction, distance) };
    this.camera.near = distance / 100;
    this.camera.far = distance * 100;
    this.resetView();
  }

  resetView() {
    if (!this.home) return;
    this.camera.position.copy(this.home.position);
    this.controls.target.copy(this.home.target);
    this.camera.updateProjectionMatrix();
    this.controls.update();
    this.render();
  }
}
