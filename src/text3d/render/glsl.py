"""GLSL 3.30 sources of :class:`text3d.render.renderer.Renderer`'s shading programs.

One source for every program: each program keeps only what an asset and a call need
(``#define`` TEXTURED, VERTEX_NORMALS, AUX), so llvmpipe neither samples an unbound texture
nor interpolates unused varyings. What remains is the same expressions in every program, so
a program renders the same pixels as the full one (tests/render/test_renderer.py checks).

With ``#define`` LINEAR_OUT the program writes the linear colour as float32 and stops before
the sRGB encoding; :data:`ENCODE_FRAGMENT_SHADER` then applies the same ``to_srgb`` to those
exact floats once per covered pixel. The result is bit-identical to encoding in place, and
cheaper on llvmpipe: it shades 4×2-pixel groups per triangle, so on small triangles most
lanes of the three ``pow`` calls are wasted there, but not in the full-screen pass.

Shading happens in linear space and is written as sRGB: a hemisphere ambient term, a key and
a fill light fixed to the camera, and a Blinn-Phong highlight whose width follows the
roughness. Faces are two-sided; without vertex normals, faces are shaded flat from the
screen-space derivatives of the world position.
"""

VERTEX_SHADER = """
uniform mat4 u_mvp;
in vec3 in_pos;
in vec4 in_color;
in float in_rough;
out vec3 v_world;
out vec4 v_color;
out float v_rough;
#ifdef VERTEX_NORMALS
in vec3 in_normal;
out vec3 v_normal;
#endif
#ifdef TEXTURED
in vec2 in_uv;
out vec2 v_uv;
#endif
#ifdef AUX
uniform mat4 u_view;
out float v_depth;
#endif
void main() {
    vec4 p = vec4(in_pos, 1.0);
    gl_Position = u_mvp * p;
    v_world = in_pos;
    v_color = in_color;
    v_rough = in_rough;
#ifdef VERTEX_NORMALS
    v_normal = in_normal;
#endif
#ifdef TEXTURED
    v_uv = in_uv;
#endif
#ifdef AUX
    v_depth = -(u_view * p).z;
#endif
}
"""

_COLOR_SPACES = """
vec3 to_linear(vec3 c) {
    return mix(c / 12.92, pow((c + 0.055) / 1.055, vec3(2.4)), step(vec3(0.04045), c));
}
vec3 to_srgb(vec3 c) {
    c = clamp(c, 0.0, 1.0);
    return mix(c * 12.92, 1.055 * pow(c, vec3(1.0 / 2.4)) - 0.055, step(vec3(0.0031308), c));
}
"""

FRAGMENT_SHADER = """
uniform vec3 u_eye;
uniform vec3 u_key;
uniform vec3 u_fill;
in vec3 v_world;
in vec4 v_color;
in float v_rough;
layout(location = 0) out vec4 out_color;
#ifdef VERTEX_NORMALS
in vec3 v_normal;
#endif
#ifdef TEXTURED
uniform sampler2D u_texture;
in vec2 v_uv;
#endif
#ifdef AUX
in float v_depth;
uniform int u_back_normals;  // 1: a back face's normal keeps facing away from the camera
layout(location = 1) out vec4 out_aux;
#endif

""" + _COLOR_SPACES + """void main() {
#ifdef VERTEX_NORMALS
    vec3 n = v_normal;
    if (dot(n, n) < 0.25) {  // interpolated across a crease: fall back to the face normal
        n = cross(dFdx(v_world), dFdy(v_world));
    }
#else
    vec3 n = cross(dFdx(v_world), dFdy(v_world));
#endif
    n = normalize(n);
    vec3 view = normalize(u_eye - v_world);
    if (dot(n, view) < 0.0) n = -n;
    vec4 base = v_color;
#ifdef TEXTURED
    vec4 t = texture(u_texture, v_uv);
    base *= vec4(to_linear(t.rgb), t.a);
#endif
    float r = clamp(v_rough, 0.05, 1.0);
    float ambient = mix(0.20, 0.34, 0.5 + 0.5 * n.z);
    float key = max(dot(n, u_key), 0.0);
    float fill = max(dot(n, u_fill), 0.0);
    vec3 h = normalize(u_key + view);
    float shininess = clamp(2.0 / (r * r * r * r) - 2.0, 1.0, 2048.0);
    float spec = pow(max(dot(n, h), 0.0), shininess) * (1.0 - r) * (1.0 - r) * 0.5;
    vec3 color = base.rgb * (ambient + 0.72 * key + 0.22 * fill) + vec3(spec);
#ifdef LINEAR_OUT
    out_color = vec4(color, 1.0);
#else
    out_color = vec4(to_srgb(color), 1.0);
#endif
#ifdef AUX
    out_aux = vec4((u_back_normals == 1 && !gl_FrontFacing) ? -n : n, v_depth);
#endif
}
"""

ENCODE_VERTEX_SHADER = """
void main() {  // one triangle covering the viewport, on the far plane (window z = 1)
    vec2 corner = vec2(gl_VertexID & 1, gl_VertexID >> 1) * 4.0 - 1.0;
    gl_Position = vec4(corner, 1.0, 1.0);
}
"""

ENCODE_FRAGMENT_SHADER = """
uniform sampler2D u_linear;
layout(location = 0) out vec4 out_color;
""" + _COLOR_SPACES + """
void main() {
    vec3 color = texelFetch(u_linear, ivec2(gl_FragCoord.xy), 0).rgb;
    out_color = vec4(to_srgb(color), 1.0);
}
"""
"""The second pass after a LINEAR_OUT program: drawn with depth test GREATER against the
first pass's depth buffer, it reaches exactly the pixels a fragment was written to."""

# (attribute, moderngl format, first column) in the interleaved float32 vertex buffer
ATTRIBUTES = (("in_pos", "3f", 0), ("in_normal", "3f", 3), ("in_color", "4f", 6), ("in_uv", "2f", 10),
              ("in_rough", "1f", 12))
