"""The synthetic road-scene renderer: one photo and its class map per (seed, index).

Each scene has sky, a road with lane markings (labelled road), sidewalks, buildings or
vegetation beside the street, cars on the road and pedestrians on the sidewalks, drawn in
perspective with varied colours, lighting, positions, shadows and noise. Scene i follows
from (seed, i) alone, so the same settings give the same scenes. source_synthetic.py turns
the scenes into a data set.
"""
import cv2
import numpy as np

CLASS_NAMES = ['sky', 'road', 'sidewalk', 'building', 'vegetation', 'car', 'person']
SKY, ROAD, SIDEWALK, BUILDING, VEGETATION, CAR, PERSON = range(len(CLASS_NAMES))
VERSION = 2  # bump when the scenes change, so that old and new files never mix


def scene_rng(seed, index):
    """The random generator of scene `index`: independent of every other scene."""
    return np.random.default_rng([seed, index])


# ---------------------------------------------------------------------------------------------
# Drawing
# ---------------------------------------------------------------------------------------------

class Canvas:
    """A photo and its class map, drawn together so that they always agree.

    Coordinates are floats in pixels; OpenCV gets them with 4 fractional bits.
    """

    def __init__(self, width, height):
        self.width, self.height = width, height
        self.image = np.zeros((height, width, 3), dtype=np.float32)
        self.classes = np.zeros((height, width), dtype=np.uint8)

    def polygon(self, points, color, label=None):
        """Fill a polygon [(x, y), ...] with a BGR colour, and with `label` in the class map."""
        points = fixed_point(points).reshape(-1, 1, 2)
        cv2.fillPoly(self.image, [points], tuple(float(c) for c in color), cv2.LINE_8, 4)
        if label is not None:
            cv2.fillPoly(self.classes, [points], int(label), cv2.LINE_8, 4)

    def rectangle(self, x0, y0, x1, y1, color, label=None):
        """Fill the axis-aligned rectangle between two corners."""
        self.polygon([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], color, label)

    def ellipse(self, cx, cy, rx, ry, color, label=None):
        """Fill an axis-aligned ellipse with centre (cx, cy) and radii (rx, ry)."""
        center, axes = fixed_point([(cx, cy), (rx, ry)])
        axes = tuple(np.maximum(axes, 1))
        cv2.ellipse(self.image, tuple(center), axes, 0, 0, 360, tuple(float(c) for c in color),
                    -1, cv2.LINE_8, 4)
        if label is not None:
            cv2.ellipse(self.classes, tuple(center), axes, 0, 0, 360, int(label), -1, cv2.LINE_8,
                        4)

    def darken(self, points, factor, where=None):
        """Darken the photo inside a polygon (a shadow), only on `where` (a class mask) if
        given; the classes stay what they are."""
        mask = np.zeros(self.classes.shape, dtype=np.uint8)
        cv2.fillPoly(mask, [fixed_point(points).reshape(-1, 1, 2)], 1, cv2.LINE_8, 4)
        inside = mask == 1 if where is None else (mask == 1) & where
        self.image[inside] *= factor


def fixed_point(points):
    """Points as int32 with 4 fractional bits, as OpenCV's `shift=4` wants them."""
    return np.round(np.asarray(points, dtype=np.float64) * 16).astype(np.int32)


def ellipse_points(cx, cy, rx, ry, count=24):
    """A polygon approximating an ellipse."""
    angles = np.linspace(0, 2 * np.pi, count, endpoint=False)
    return np.stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles)], axis=1)


class Street:
    """Where the street lies: the horizon and the edges of road and sidewalks.

    Each edge is a line (x on the horizon, x on the bottom row); they all meet close to one
    vanishing point, which gives the perspective.
    """

    def __init__(self, rng, width, height):
        self.width, self.height = width, height
        self.horizon = height * rng.uniform(0.36, 0.5)
        vanish = width * rng.uniform(0.38, 0.62)
        road_left = vanish - width * rng.uniform(0.3, 0.65)
        road_right = vanish + width * rng.uniform(0.3, 0.65)
        self.road_left = (vanish - width * 0.01, road_left)
        self.road_right = (vanish + width * 0.01, road_right)
        self.walk_left = (vanish - width * 0.03, road_left - width * rng.uniform(0.25, 0.55))
        self.walk_right = (vanish + width * 0.03, road_right + width * rng.uniform(0.25, 0.55))
        self.vanish = vanish

    def depth(self, y):
        """0 on the horizon, 1 on the bottom row: how near a point on the ground is."""
        return (y - self.horizon) / (self.height - self.horizon)

    def row(self, depth):
        """The y of a depth (inverse of `depth`)."""
        return self.horizon + depth * (self.height - self.horizon)

    def x(self, edge, y):
        """x where an edge crosses row y."""
        top, bottom = edge
        return top + (bottom - top) * self.depth(y)

    def quad(self, edge_a, edge_b):
        """The ground polygon between two edges, from the horizon to the bottom row."""
        return [(edge_a[0], self.horizon), (edge_b[0], self.horizon),
                (edge_b[1], self.height), (edge_a[1], self.height)]


def shifted(edge, top_shift, bottom_shift):
    """An edge moved sideways, by different amounts on the horizon and the bottom row."""
    return edge[0] + top_shift, edge[1] + bottom_shift


def render_scene(rng, width, height):
    """One road scene: (photo uint8 BGR [H, W, 3], class map uint8 [H, W])."""
    canvas = Canvas(width, height)
    street = Street(rng, width, height)
    draw_sky(canvas, street, rng)
    draw_roadside(canvas, street, rng)
    draw_ground(canvas, street, rng)
    add_texture(canvas, rng)
    objects = ([(draw_car, depth) for depth in car_depths(rng)]
               + [(draw_person, depth) for depth in person_depths(rng)])
    for draw, depth in sorted(objects, key=lambda item: item[1]):  # far ones first
        draw(canvas, street, rng, depth)
    return apply_lighting(canvas.image, rng), canvas.classes


def jitter(rng, color, amount):
    """A colour near `color` (B, G, R), each channel moved by up to `amount`."""
    return np.clip(np.asarray(color, dtype=np.float64) + rng.uniform(-amount, amount, 3), 0, 255)


def pick(rng, options):
    """One of the options, uniformly."""
    return options[rng.integers(len(options))]


def draw_sky(canvas, street, rng):
    """Everything starts as sky: a vertical gradient (clear, overcast or dusk), some clouds."""
    clear = ((230, 160, 80), (245, 215, 185))
    overcast = ((205, 200, 195), (230, 228, 225))
    dusk = ((190, 140, 110), (150, 190, 240))
    top, bottom = pick(rng, [clear, clear, overcast, dusk])
    top, bottom = jitter(rng, top, 20), jitter(rng, bottom, 15)
    fraction = np.linspace(0, 1, canvas.height, dtype=np.float32)[:, None, None]
    canvas.image[:] = top * (1 - fraction) + bottom * fraction
    canvas.classes[:] = SKY
    for _ in range(rng.integers(0, 4)):  # clouds
        x, y = rng.uniform(0, canvas.width), rng.uniform(0, street.horizon * 0.6)
        rx, ry = canvas.width * rng.uniform(0.05, 0.15), canvas.height * rng.uniform(0.03, 0.08)
        canvas.ellipse(x, y, rx, ry, jitter(rng, (235, 235, 235), 15))


def draw_roadside(canvas, street, rng):
    """Buildings and trees along both sides of the street, above a distant band."""
    width, height, horizon = canvas.width, canvas.height, street.horizon
    far = pick(rng, [BUILDING, VEGETATION])
    canvas.rectangle(0, horizon - height * rng.uniform(0.03, 0.08), width, height,
                     jitter(rng, (150, 150, 140) if far == BUILDING else (70, 120, 90), 20), far)
    gap = width * rng.uniform(0.03, 0.1)
    for start, end in ((0, street.vanish - gap), (width, street.vanish + gap)):
        share_of_buildings = pick(rng, [0.9, 0.9, 0.1, 0.1, 0.5])
        x = start
        while (end - x) * np.sign(end - start) > 0:
            block = width * rng.uniform(0.1, 0.3) * np.sign(end - start)
            x_next = x + block if abs(end - x) > abs(block) * 1.3 else end
            nearness = min(1.2, 0.45 + abs(x - street.vanish) / width * 1.5)
            if rng.random() < share_of_buildings:
                draw_building(canvas, rng, min(x, x_next), max(x, x_next), horizon, nearness)
            else:
                draw_trees(canvas, rng, min(x, x_next), max(x, x_next), horizon, nearness)
            x = x_next


def draw_building(canvas, rng, x0, x1, horizon, nearness):
    """A facade from the ground up, with a grid of windows."""
    height = canvas.height
    top = horizon - height * rng.uniform(0.15, 0.42) * nearness
    facade = pick(rng, [(150, 180, 200), (50, 70, 150), (150, 150, 150), (210, 215, 220),
                        (140, 120, 110), (110, 190, 210), (100, 100, 105)])
    facade = jitter(rng, facade, 25)
    canvas.rectangle(x0, top, x1, height, facade, BUILDING)
    window = jitter(rng, pick(rng, [(70, 50, 40), (90, 80, 70), (120, 200, 230)]), 20)
    step_x = max(3.0, height * rng.uniform(0.07, 0.12) * nearness)
    step_y = max(3.0, height * rng.uniform(0.08, 0.13) * nearness)
    for y in np.arange(top + step_y * 0.4, horizon + height * 0.1, step_y):
        for x in np.arange(x0 + step_x * 0.4, x1 - step_x * 0.5, step_x):
            canvas.rectangle(x, y, x + step_x * 0.55, y + step_y * 0.55, window)
    canvas.rectangle(x0, top, x0 + max(1.0, canvas.width * 0.006), height, facade * 0.7)


def draw_trees(canvas, rng, x0, x1, horizon, nearness):
    """A hedge with tree crowns: overlapping green ellipses, textured later."""
    height = canvas.height
    green = jitter(rng, pick(rng, [(40, 130, 60), (30, 100, 50), (60, 150, 110), (50, 120, 90)]),
                   20)
    top = horizon - height * rng.uniform(0.1, 0.35) * nearness
    canvas.rectangle(x0, top + height * 0.08, x1, height, green, VEGETATION)
    for _ in range(rng.integers(2, 5)):
        radius = height * rng.uniform(0.1, 0.2) * nearness
        canvas.ellipse(rng.uniform(x0, x1), top + rng.uniform(0, height * 0.1), radius * 1.2,
                       radius, jitter(rng, green, 15), VEGETATION)


def draw_ground(canvas, street, rng):
    """Sidewalks and road in perspective, a curb, lane markings and a shadow or two."""
    walk = jitter(rng, pick(rng, [(170, 170, 170), (150, 175, 195), (110, 120, 175),
                                  (200, 200, 195)]), 20)
    canvas.polygon(street.quad(street.walk_left, street.road_left), walk, SIDEWALK)
    canvas.polygon(street.quad(street.road_right, street.walk_right), walk, SIDEWALK)
    curb = max(1.0, canvas.width * 0.01)
    canvas.polygon(street.quad(shifted(street.road_left, 0, -curb),
                               shifted(street.road_right, 0, curb)), walk * 1.15, SIDEWALK)
    grey = rng.uniform(55, 115)
    canvas.polygon(street.quad(street.road_left, street.road_right),
                   jitter(rng, (grey, grey, grey), 8), ROAD)
    draw_tiles(canvas, street, rng, walk)
    draw_lane_markings(canvas, street, rng)
    for _ in range(rng.integers(0, 3)):
        draw_shadow(canvas, street, rng)


def draw_tiles(canvas, street, rng, walk):
    """Joints across the sidewalks, closer together towards the horizon."""
    joint = walk * rng.uniform(0.7, 0.85)
    phase = rng.uniform(0, 1)
    for k in range(12):
        depth = ((k + phase) / 12) ** 1.6
        y = street.row(depth)
        thickness = max(0.6, depth * canvas.height * 0.015)
        for inner, outer in ((street.road_left, street.walk_left),
                             (street.road_right, street.walk_right)):
            xa, xb = street.x(inner, y), street.x(outer, y)
            canvas.polygon([(xa, y), (xb, y), (xb, y + thickness), (xa, y + thickness)], joint)


def draw_lane_markings(canvas, street, rng):
    """Dashed centre line and solid edge lines, painted on the road (still labelled road)."""
    paint = jitter(rng, pick(rng, [(235, 235, 235), (60, 200, 230)]), 15)
    centre = tuple((a + b) / 2 for a, b in zip(street.road_left, street.road_right))
    dashes = rng.integers(4, 8)
    phase = rng.uniform(0, 1)
    for k in range(dashes):
        far, near = ((k + phase) / dashes) ** 1.5, ((k + phase + 0.5) / dashes) ** 1.5
        draw_stripe(canvas, street, centre, far, min(near, 1.05), paint)
    if rng.random() < 0.6:
        inset = canvas.width * 0.04
        for edge in (shifted(street.road_left, 0, inset), shifted(street.road_right, 0, -inset)):
            draw_stripe(canvas, street, edge, 0.05, 1.05, paint * 0.95)


def draw_stripe(canvas, street, edge, far, near, color):
    """A painted stripe along an edge line, between two depths (0 horizon .. 1 bottom)."""
    half = canvas.width * 0.008
    y_far, y_near = street.row(far), street.row(near)
    x_far, x_near = street.x(edge, y_far), street.x(edge, y_near)
    canvas.polygon([(x_far - half * far, y_far), (x_far + half * far, y_far),
                    (x_near + half * near, y_near), (x_near - half * near, y_near)], color)


def draw_shadow(canvas, street, rng):
    """A darker band across the ground, as a tree or a building would cast (photo only)."""
    y0 = street.row(rng.uniform(0.1, 0.9))
    y1 = y0 + canvas.height * rng.uniform(0.04, 0.15)
    x0, x1 = sorted(rng.uniform(-0.2, 1.2, 2) * canvas.width)
    skew = canvas.width * rng.uniform(-0.15, 0.15)
    ground = (canvas.classes == ROAD) | (canvas.classes == SIDEWALK)
    canvas.darken([(x0, y0), (x1, y0), (x1 + skew, y1), (x0 + skew, y1)],
                  rng.uniform(0.55, 0.8), ground)


def add_texture(canvas, rng):
    """Per-class grain: leafy noise on vegetation, fine grit on the road, faint on facades."""
    height, width = canvas.classes.shape
    fine = rng.normal(0, 1, (height, width, 1)).astype(np.float32)
    coarse = cv2.resize(rng.normal(0, 1, (max(2, height // 4), max(2, width // 4))).astype(
        np.float32), (width, height), interpolation=cv2.INTER_LINEAR)[..., None]
    strength = np.zeros((len(CLASS_NAMES), 2), dtype=np.float32)  # (fine, coarse) per class
    strength[VEGETATION] = (18, 22)
    strength[ROAD] = (7, 4)
    strength[SIDEWALK] = (5, 3)
    strength[BUILDING] = (3, 4)
    amounts = strength[canvas.classes]
    canvas.image += fine * amounts[..., :1] + coarse * amounts[..., 1:]


def car_depths(rng):
    """How near each car is (0 horizon .. 1 bottom row; a little over 1 is cut off)."""
    count = rng.choice(4, p=[0.15, 0.35, 0.3, 0.2])
    return rng.uniform(0.4, 1.05, count)


def person_depths(rng):
    """How near each pedestrian's feet are."""
    count = rng.choice(4, p=[0.1, 0.35, 0.35, 0.2])
    return rng.uniform(0.55, 1.0, count)


def draw_car(canvas, street, rng, depth):
    """A car seen from behind on the road: body, cabin with windows, wheels, lights."""
    width, height = canvas.width, canvas.height
    bottom = street.row(depth)
    car_width = width * rng.uniform(0.2, 0.3) * depth
    body_height = car_width * rng.uniform(0.3, 0.4)
    cabin_height = car_width * rng.uniform(0.2, 0.27)
    left, right = street.x(street.road_left, bottom), street.x(street.road_right, bottom)
    room = right - left - car_width
    x0 = left + rng.uniform(0, room) if room > 0 else (left + right - car_width) / 2
    x1 = x0 + car_width
    paint = jitter(rng, pick(rng, [(40, 40, 200), (170, 90, 30), (235, 235, 235), (30, 30, 30),
                                   (180, 180, 175), (40, 200, 230), (60, 140, 40)]), 25)
    canvas.darken(ellipse_points((x0 + x1) / 2, bottom, car_width * 0.55, car_width * 0.05), 0.6)
    wheel = car_width * 0.11
    for x in (x0 + car_width * 0.18, x1 - car_width * 0.18):
        canvas.ellipse(x, bottom - wheel, wheel * 0.9, wheel, (20, 20, 20), CAR)
    body_top = bottom - wheel * 0.8 - body_height
    canvas.rectangle(x0, body_top, x1, bottom - wheel * 0.8, paint, CAR)
    cabin = [(x0 + car_width * 0.1, body_top), (x1 - car_width * 0.1, body_top),
             (x1 - car_width * 0.22, body_top - cabin_height),
             (x0 + car_width * 0.22, body_top - cabin_height)]
    canvas.polygon(cabin, paint * 0.9, CAR)
    glass = jitter(rng, (90, 70, 60), 20)
    canvas.polygon([(x0 + car_width * 0.16, body_top - 0.5),
                    (x1 - car_width * 0.16, body_top - 0.5),
                    (x1 - car_width * 0.25, body_top - cabin_height * 0.8),
                    (x0 + car_width * 0.25, body_top - cabin_height * 0.8)], glass)
    light = body_top + body_height * 0.2
    for x in (x0 + car_width * 0.03, x1 - car_width * 0.13):
        canvas.rectangle(x, light, x + car_width * 0.1, light + body_height * 0.2, (30, 30, 220))


def draw_person(canvas, street, rng, depth):
    """A pedestrian on one of the sidewalks: legs, torso with arms, head."""
    width, height = canvas.width, canvas.height
    feet = street.row(depth)
    tall = height * rng.uniform(0.5, 0.75) * (0.35 + 0.65 * depth)
    broad = tall * rng.uniform(0.25, 0.32)
    spans = []
    for road_edge, outer_edge in ((street.road_left, street.walk_left),
                                  (street.road_right, street.walk_right)):
        a, b = sorted((street.x(road_edge, feet), street.x(outer_edge, feet)))
        a, b = max(a, 1.0), min(b, width - 1.0)
        if b - a > broad:
            spans.append((a, b - broad))
    if not spans:
        return
    a, b = spans[rng.integers(len(spans))]
    x0 = rng.uniform(a, b)
    centre = x0 + broad / 2
    top = feet - tall
    shirt = rng.uniform(20, 235, 3)
    trousers = jitter(rng, pick(rng, [(60, 40, 30), (30, 30, 30), (110, 110, 110),
                                      (40, 70, 110)]), 20)
    skin = jitter(rng, pick(rng, [(120, 160, 210), (80, 110, 160), (50, 70, 100)]), 15)
    stride = broad * rng.uniform(0, 0.35)
    hip = top + tall * 0.55
    for side in (-1, 1):
        foot = centre + side * (broad * 0.2 + stride)
        canvas.polygon([(centre + side * broad * 0.05, hip), (centre + side * broad * 0.4, hip),
                        (foot + side * broad * 0.15, feet), (foot - side * broad * 0.15, feet)],
                       trousers, PERSON)
    canvas.rectangle(x0, top + tall * 0.17, x0 + broad, hip + tall * 0.03, shirt, PERSON)
    for side in (-1, 1):
        arm = centre + side * broad * 0.5
        canvas.rectangle(arm - broad * 0.12 * (side < 0), top + tall * 0.18,
                         arm + broad * 0.12 * (side > 0), top + tall * 0.5, shirt * 0.85, PERSON)
    canvas.ellipse(centre, top + tall * 0.09, tall * 0.075, tall * 0.09, skin, PERSON)


def apply_lighting(image, rng):
    """Exposure, a colour cast, sensor noise and sometimes a little blur; uint8 result."""
    image = image * rng.uniform(0.7, 1.25) + rng.uniform(-18, 18, 3).astype(np.float32)
    image = image + rng.normal(0, rng.uniform(2, 8), image.shape).astype(np.float32)
    if rng.random() < 0.3:
        image = cv2.GaussianBlur(image, (3, 3), 0.7)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)
