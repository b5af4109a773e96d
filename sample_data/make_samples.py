#!/usr/bin/env python3
"""Regenerate dataprep's bundled synthetic sample data.

    python sample_data/make_samples.py            # rewrite the files next to this script
    python sample_data/make_samples.py OUT_DIR    # write them into OUT_DIR instead

Everything here is synthetic and written for this project: a fictional online bicycle-parts shop,
"Northwind Cycles", its customers, products, policies and tools. Pure standard library; every file
is drawn from its own ``random.Random`` with a fixed seed, so a run reproduces the files byte for
byte. Before writing, the script checks its own output against the cleanliness constraints the
files promise (see README.md) and refuses to write anything if one is broken.

Files written (README.md and broken.* are not written by this script):
    support_chat.jsonl, tools.jsonl, dpo.jsonl, alpaca.json, alpaca.jsonl, sharegpt.json,
    sharegpt_dpo.json, prompt_completion.jsonl, text_only.jsonl, multilingual.jsonl
"""

from __future__ import annotations

import json
import random
import re
import string
import sys
from pathlib import Path

SEED = 20261121

# --------------------------------------------------------------------------------------------
# Shared facts: the shop, its products and policies (kept consistent across every file)
# --------------------------------------------------------------------------------------------

SYSTEM_MAIN = (
    "You are the customer-support assistant for Northwind Cycles, an online shop for bicycle parts "
    "and accessories. Answer clearly and briefly, follow the shop's published policies, and always "
    "tell the customer what the next step is."
)
SYSTEM_TECH = (
    "You are the workshop helpdesk of Northwind Cycles. Give practical, safe mechanical advice about "
    "bicycle parts and compatibility, and recommend a professional mechanic when a job needs special tools."
)
SYSTEM_SHORT = (
    "You help Northwind Cycles customers with orders, returns, shipping and product questions. "
    "Keep a friendly tone and be concise."
)
SYSTEM_TOOLS = (
    "You are the Northwind Cycles order assistant. Use the available tools to look up orders, stock "
    "and shipping prices instead of guessing, and explain the results in plain language."
)
SYSTEM_DE = (
    "Sie sind der Kundenservice-Assistent von Northwind Cycles, einem Onlineshop für Fahrradteile. "
    "Antworten Sie freundlich, sachlich und auf Deutsch."
)
SYSTEM_ES = (
    "Eres el asistente de atención al cliente de Northwind Cycles, una tienda en línea de piezas para "
    "bicicletas. Responde siempre en español, de forma clara y amable."
)

# (display name, sku, price in USD, shipping weight in kg, category)
PRODUCTS = [
    ("Halden HX-12 chain", "HX-12", 42.00, 0.3, "drivetrain"),
    ("Halden HX-11 chain", "HX-11", 38.50, 0.3, "drivetrain"),
    ("Corvid 10-51T cassette", "CV-1051", 189.00, 0.5, "drivetrain"),
    ("Corvid 11-34T road cassette", "CV-1134", 96.00, 0.4, "drivetrain"),
    ("Tallwood Ridgeline 29x2.4 tire", "TW-RL29", 64.00, 1.0, "tires"),
    ("Brightline Gravelpath 700x40 tire", "BL-GP40", 52.00, 0.6, "tires"),
    ("Brightline Citysafe 700x35 tire", "BL-CS35", 39.00, 0.7, "tires"),
    ("Stratus S4 hydraulic brake set", "ST-S4", 229.00, 0.9, "brakes"),
    ("Halden resin brake pads", "HD-PR", 18.00, 0.1, "brakes"),
    ("Halden sintered brake pads", "HD-PS", 21.00, 0.1, "brakes"),
    ("Corvid 180 mm rotor", "CV-R180", 46.00, 0.2, "brakes"),
    ("Tallwood tubeless sealant", "TW-SEAL", 16.50, 0.6, "tires"),
    ("Northwind Trail flat pedals", "NW-FP1", 59.00, 0.5, "contact"),
    ("Marrow Bay carbon seatpost", "MB-SP272", 119.00, 0.3, "contact"),
    ("Halden BSA bottom bracket", "HD-BB68", 34.00, 0.2, "drivetrain"),
    ("Brightline 1000-lumen front light", "BL-L1000", 79.00, 0.3, "accessories"),
    ("Northwind Track floor pump", "NW-PUMP", 45.00, 1.6, "accessories"),
    ("Stratus 12-speed rear derailleur", "ST-RD12", 139.00, 0.4, "drivetrain"),
    ("Corvid cork handlebar tape", "CV-TAPE", 22.00, 0.1, "contact"),
    ("Tallwood Vista MIPS helmet", "TW-VISTA", 98.00, 0.8, "accessories"),
    ("Northwind 14-function multitool", "NW-MT14", 27.00, 0.2, "accessories"),
    ("Marrow Bay alloy wheelset", "MB-WS700", 420.00, 2.9, "wheels"),
    ("Northwind Commuter rear rack", "NW-RACK", 49.00, 1.1, "accessories"),
    ("Brightline Tailbeam rear light", "BL-TB", 32.00, 0.1, "accessories"),
]
US_CITIES = ["Denver", "Boise", "Sacramento", "Tucson", "Madison", "Spokane", "Eugene", "Reno",
             "Albuquerque", "Omaha", "Richmond", "Savannah"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
MONTHS = ["February", "March", "April", "May", "June", "September", "October"]
CODES = ["SPRING15", "GRAVEL20", "WELCOME10", "TRAIL12", "COMMUTE5", "AUTUMN10"]
DUTY_NOTES = {
    "Canada": "Canadian customs may charge duties and sales tax on delivery, and the carrier collects them at the door.",
    "the UK": "Duties and VAT are calculated and collected at checkout, so nothing extra is due when the parcel arrives.",
    "Germany": "Duties and VAT are collected at checkout for all EU countries, so nothing extra is due on delivery.",
    "Ireland": "For EU addresses we collect VAT and any duties at checkout, so the courier will not ask for more money.",
    "the Netherlands": "We charge Dutch VAT and any duties at checkout, which means no extra fees when the parcel arrives.",
    "Australia": "Orders under 1,000 Australian dollars have GST added at checkout and clear customs without further charges.",
}
BRANDS = ["Corvid", "Stratus", "Marrow Bay", "Tallwood", "Brightline", "Halden"]


def _ctx(rng: random.Random) -> dict:
    """Slot values for one conversation."""
    p, w = rng.sample(PRODUCTS, 2)
    return {
        "product": p[0],
        "sku": p[1],
        "price": f"{p[2]:.2f}",
        "wrong": w[0],
        "oid": f"NW-{rng.randint(20000, 89999)}",
        "day": rng.choice(WEEKDAYS),
        "date": f"{rng.choice(MONTHS)} {rng.randint(2, 27)}",
        "n": rng.choice(["three", "four", "five", "six", "eight", "ten"]),
        "city": rng.choice(US_CITIES),
        "country": rng.choice(sorted(DUTY_NOTES)),
        "code": rng.choice(CODES),
        "brand": rng.choice(BRANDS),
        "months": rng.choice(["five", "seven", "nine", "eleven", "fourteen"]),
    }


def _fill(template: str, ctx: dict) -> str:
    text = template.format(**ctx)
    return text[0].upper() + text[1:]


# --------------------------------------------------------------------------------------------
# English support exchanges. A unit is one customer question (several phrasings) with several
# complete answers; follow-ups and closers are later turns that fit after a given unit.
# "bad" is a worse answer (terse or slightly wrong) used for the preference files.
# --------------------------------------------------------------------------------------------

UNITS: dict[str, dict] = {}
FOLLOWS: dict[str, dict] = {}


def unit(key, users, replies, bad=None, follows=(), tech=False):
    UNITS[key] = {"key": key, "users": users, "replies": replies, "bad": bad, "follows": list(follows), "tech": tech}


def follow(key, users, replies):
    FOLLOWS[key] = {"key": key, "users": users, "replies": replies}


# --- orders and shipping ---------------------------------------------------------------------
unit("track_stuck", [
    "Hi, I ordered the {product} on {day} and the tracking page still says label created. The order number is {oid}. Is it actually on its way?",
    "My tracking for {oid} has not updated since yesterday and it still shows label created. Should I be worried about the parcel?",
    "Tracking on order {oid} seems frozen. I bought the {product} and was hoping to have it for the weekend ride.",
], [
    "Thanks for the order number. A label created status means our warehouse has packed the parcel but the carrier has not scanned it yet, and that first scan usually appears within one business day. If {oid} still shows no movement by tomorrow evening, reply here and we will open a trace with the carrier. Should it turn out to be lost, we ship a replacement by express at no cost.",
    "That status only tells us the shipping label was printed; the parcel switches to in transit once the carrier collects it from our dock. Collections occasionally slip by a day during busy weeks. I have flagged {oid} for our warehouse team so they can confirm it left the building, and you will get an email as soon as the first scan appears.",
], bad="It is probably on its way, just wait a few more days.",
   follows=["change_address_transit", "express_upgrade", "lost_parcel", "pickup_instead"])

unit("late_delivery", [
    "Order {oid} was due on {day} and nothing has arrived. The tracking just says in transit. What can you do?",
    "It has been {n} business days since my parcel shipped and it still has not turned up. Order {oid}, the {product}.",
    "The estimated delivery date for my {product} passed yesterday. Could you look into order {oid} please?",
], [
    "Thanks for letting us know. Standard parcels are usually delivered 2 to 4 business days after dispatch, so a short delay in transit is common, but we do not want you waiting indefinitely. If there is no delivery scan by the end of the next business day, we will file a carrier trace and send a replacement without waiting for the result.",
    "Apologies for the wait on {oid}. An in-transit status with no new scans usually means the parcel is sitting at a sorting hub, and most of these start moving again within 48 hours. I have asked the carrier for an update, and if it has not reached you in two business days we will reship the {product} by express.",
], bad="Carriers are slow sometimes, so you will just have to keep waiting.",
   follows=["lost_parcel", "refund_instead", "neighbour_delivery"])

unit("ship_time", [
    "If I order the {product} today, when would it arrive? I live in {city}.",
    "How fast is your standard shipping? I need a new {product} before a trip on {day}.",
    "What are my delivery options for an order placed this afternoon? I am near {city} and in a bit of a hurry.",
], [
    "Orders placed before 2 pm Pacific time on a business day leave our warehouse the same day. Standard shipping then takes 2 to 4 business days and is free on orders over $75, otherwise it costs $6.95. If you need it sooner, express shipping is $14.95 and arrives the next business day.",
    "You have two choices at checkout. Standard shipping takes 2 to 4 business days after dispatch and is free above $75, while express costs $14.95 and is delivered the next business day. Either way, anything ordered before 2 pm Pacific ships that same afternoon.",
], bad="Shipping usually takes about a week or so.",
   follows=["saturday_delivery", "pickup_instead", "rewards_on_order"])

unit("intl_ship", [
    "Do you ship to {country}? I am looking at the {product} and want to know what it would cost to get it there.",
    "I live in {country}. Can I order from you, and will I have to pay import duties on top?",
    "Before I order the {product}, can you tell me how shipping to {country} works?",
], [
    "Yes, we ship to {country}. International parcels arrive in 6 to 10 business days, and the exact shipping price is shown at checkout once you enter your postcode. {duty}",
    "We do deliver to {country}, usually within 6 to 10 business days of dispatch. {duty} The checkout page shows the shipping cost before you pay, so there are no surprises.",
], bad="Yes, we ship everywhere in the world and international shipping is always free.",
   follows=["intl_returns"])

unit("change_address", [
    "I just placed order {oid} and realised it is going to my old address. Can you change it?",
    "Is it possible to update the shipping address on an order I placed about twenty minutes ago?",
    "Oops, I typed the wrong house number on order {oid}. Is there still time to fix that?",
], [
    "Yes, as long as the order has not reached picking yet, which is usually the first hour after checkout. Reply with the corrected street address and postcode and we will update {oid} straight away. If it has already been packed, we can still ask the carrier to redirect it once it is in transit.",
    "Good catch. Orders stay editable for about an hour after they are placed, so there is a good chance we can still change it. Send the corrected address here and we will confirm once the order is updated.",
], bad="Addresses are locked once you check out, so the parcel will go to the old address.",
   follows=["split_order", "rewards_on_order"])

unit("cancel_order", [
    "Please cancel order {oid}. I found the part at a local shop and no longer need it.",
    "Can I still cancel an order if it has not shipped yet? It is {oid}.",
    "I ordered the {product} by mistake this morning, order {oid}. How do I cancel it?",
], [
    "No problem. Orders can be cancelled free of charge until they are dispatched, and {oid} has not left the warehouse yet, so we have cancelled it. The refund goes back to your original payment method and usually shows up within 3 to 5 business days.",
    "Yes, anything that has not shipped can be cancelled at no cost. I have submitted the cancellation for {oid}, and you will receive a confirmation email shortly. If the parcel happens to be dispatched in the meantime, just refuse the delivery or send it back within 30 days for a full refund.",
], bad="Cancelled. It might take a while to get your money.",
   follows=["pending_charge", "reorder_other"])

# --- returns, damage and warranty -----------------------------------------------------------
unit("return_unused", [
    "I would like to return the {product} I bought last week. It is unused and still in the box. How does that work?",
    "The {product} turned out to be the wrong fit for my bike. It has never been installed. Can I send it back?",
    "What is your return policy? I have an unopened {product} from order {oid}.",
], [
    "You can return unused items in their original packaging within 30 days of delivery. Start the return from the Orders page in your account, choose the item, and a prepaid label will be emailed to you; the $6.95 label cost is taken from the refund. Once the parcel reaches our warehouse, the refund is issued within 5 business days.",
    "Unused parts in their original packaging can come back within 30 days of delivery for a full refund, minus $6.95 for the return label. The quickest way is the Start a return button on the order page, which generates the label for you. If you would rather swap it for a different model, choose exchange instead and we will ship the replacement as soon as the original is scanned by the carrier.",
], bad="Just send it back to us and we will refund you at some point.",
   follows=["return_no_box", "exchange_instead", "refund_timing_follow"])

unit("return_installed", [
    "I mounted the Tallwood Ridgeline tire on my wheel, rode it once, and I do not like how it feels. Can I return it?",
    "Can I return a chain that I already cut to length? It turned out to be the wrong one for my drivetrain.",
    "I fitted the Corvid cork handlebar tape yesterday and the colour looks different from the photos. Is a return possible?",
], [
    "Parts that have been installed or used are not eligible for a standard return, because we could no longer sell them as new. If the product is faulty, that is different, and we would handle it as a warranty claim. For fit or feel questions in the future, our team is happy to help you choose before you buy.",
    "Once a part has been fitted and ridden, or cut like a chain or cable, it falls outside our 30-day return policy. What we can offer is a 15 percent discount code toward the correct replacement, so you are not paying full price twice. Just reply here and we will add the code to your account.",
], bad="Sure, return anything you like, used or not.",
   follows=["discount_on_replacement"])

unit("refund_timing", [
    "I sent my return back {n} days ago and have not seen a refund yet. When should I expect it?",
    "How long do refunds take after you receive a return? It was order {oid}.",
    "My return for the {product} shows as delivered to your warehouse. When does the money come back?",
], [
    "Refunds are issued within 5 business days of the return arriving at our warehouse, and then your bank may need another 2 to 5 days to show it. You can see whether the parcel has arrived by using the tracking link on your return label. If it was delivered to us more than a week ago, reply here and we will chase it with the returns team.",
    "Once the return is scanned in at our warehouse, we inspect it and release the refund within 5 business days. The money goes back to the original payment method, and card issuers usually post it within a few days after that. We also send an email the moment the refund is processed.",
], bad="Refunds usually take a few weeks to come through.",
   follows=["refund_to_gift_card"])

unit("damaged_item", [
    "My {product} arrived in a crushed box and the part itself looks damaged. Order {oid}. What now?",
    "The parcel for {oid} came today and the {product} inside is damaged. I took photos of it.",
    "Opened my delivery and the {product} is scratched, and the packaging was torn open. What are my options?",
], [
    "That is not the condition it should arrive in, and thanks for telling us quickly. Please reply with a couple of photos of the part and the outer box, and we will ship a replacement by express at no cost to you. There is no need to send the damaged one back unless the carrier asks for it.",
    "Thanks for taking photos, that speeds things up. Upload them to this conversation and we will send a replacement {product} by express shipping straight away. We also file the damage claim with the carrier ourselves, so there is nothing more you need to do.",
], bad="Damage during shipping is the carrier's problem, so please contact them.",
   follows=["keep_damaged", "refund_instead", "replacement_express"])

unit("wrong_item", [
    "I ordered the {product} but received the {wrong} instead. Order {oid}.",
    "Wrong item in my parcel today: the packing slip says {product} but the box has the {wrong} in it.",
    "Something got mixed up with order {oid}. Instead of the {product} I got the {wrong}.",
], [
    "Apologies for the mix-up. We will send the correct {product} today by express, and a prepaid return label for the {wrong} will arrive by email. Please send it back within 30 days; there is no charge for the return.",
    "That is our mistake, so we will fix it at our cost. The correct item ships today by express, and you can return the {wrong} with the free label we are emailing you. If the {product} was needed for a specific date, tell us and we will check the delivery estimate.",
], bad="Please keep it, it is probably similar anyway.",
   follows=["keep_wrong_item", "replacement_express"])

unit("warranty_own", [
    "My Northwind-branded rear derailleur stopped returning to the small cog after about {months} months. Is that covered?",
    "The clutch on my derailleur seems to have given out and it is less than a year old. Can I make a warranty claim?",
    "One of my Northwind Trail flat pedals has developed play in the axle after {months} months of commuting. Is that a warranty case?",
], [
    "Northwind-brand components carry a two-year warranty against manufacturing defects, so that is well within it. Please send the order number, a short video of the problem and a photo of the part, and our warranty team will reply within two business days. If the claim is approved, we ship a replacement before you send the old part back.",
    "That does sound like a defect rather than normal wear, and our own parts are covered for two years. Reply with the order number, a short video showing the problem and a photo of the part, and we will start the claim today. Most claims are decided within two business days.",
], bad="Warranty only covers the first three months, so this is not covered.",
   follows=["warranty_without_receipt"])

unit("warranty_brand", [
    "I bought a {brand} wheel from you and a spoke nipple cracked after a few months. Who handles the warranty?",
    "Do you handle warranty claims for other brands, or do I have to contact the manufacturer myself?",
    "A {brand} part I bought from you {months} months ago has failed. What is the warranty process?",
], [
    "We handle it for you. Products from other brands are covered by their manufacturer's warranty, but you can send the claim through us and we deal with the brand directly. Reply with your order number and photos of the fault, and we will tell you whether the part needs to be posted back.",
    "You do not need to contact the manufacturer yourself. Send us the order number, a description of the fault and a few clear photos, and we submit the claim to the brand on your behalf. Most brands decide within one to two weeks, and we keep you updated along the way.",
], bad="You need to sort that out with the manufacturer.",
   follows=["warranty_without_receipt", "loaner_part"])

# --- compatibility and mechanical advice -----------------------------------------------------
unit("chain_speed", [
    "Will the Halden HX-11 chain work on my 12-speed drivetrain?",
    "Does it matter which chain I buy for a 12-speed setup? The 11-speed ones are cheaper.",
    "I have a spare 11-speed chain in the garage. Could I use it on my new 12-speed gravel bike?",
], [
    "An 11-speed chain will not shift well on a 12-speed drivetrain. A 12-speed chain is narrower than an 11-speed one so that it fits between the tighter cogs, and an 11-speed chain would rub and skip. Look for a chain labelled 12-speed; the Halden HX-12 fits your drivetrain.",
    "The chain has to match the number of speeds, so it matters quite a lot. Chains are made for the cog spacing of a particular number of speeds, so on a 12-speed cassette you need a 12-speed chain. A wider chain would rub on neighbouring cogs and shift poorly, even if it seems to sit fine on the teeth.",
], bad="Any chain will fit any cassette, so the 11-speed chain is fine.",
   follows=["chain_length", "quick_link"], tech=True)

unit("cassette_freehub", [
    "I want to put a 10-51 tooth 12-speed cassette on my mountain bike. My hub has a standard HG freehub. Will it fit?",
    "Can I fit the Corvid 10-51T cassette on the wheels that came with my bike?",
    "Will the Corvid 10-51T cassette fit my current wheels? The hub is a few years old.",
], [
    "Only if your hub has the right freehub body, and a standard HG freehub will not take it. Cassettes with a 10-tooth smallest cog need a different freehub body, either XD or Micro Spline depending on the cassette. Many hubs can be converted by swapping the freehub body, which costs far less than a new wheel, so tell us the hub model and we will check.",
    "It depends on the freehub body of your rear hub. The Corvid 10-51T needs an XD driver, because a 10-tooth cog is too small to fit on a standard HG body. If you send the hub model, we can tell you whether a conversion driver exists for it.",
], bad="Every cassette fits every hub, so it will slide straight on.",
   follows=["derailleur_capacity", "chain_length"], tech=True)

unit("rotor_size", [
    "I want more braking power and I am thinking of going from a 160 mm to a 180 mm front rotor. What else do I need?",
    "Can I just bolt a bigger rotor onto my front wheel, or do I need extra parts?",
    "Is the Corvid 180 mm rotor a direct swap for the 160 mm one that came on my bike?",
], [
    "You will need a caliper adapter that moves the caliper 20 mm further out, since the pads must line up with the bigger rotor. First check that your fork allows a 180 mm rotor; the maximum is printed on the fork or listed in its manual. With the adapter and rotor installed, bed in the pads with 10 to 20 firm stops before riding anywhere steep.",
    "A bigger rotor needs a matching caliper adapter, otherwise the pads will sit too low on the braking surface. For a 20 mm increase on a post mount fork, use a plus 20 adapter and slightly longer caliper bolts if the adapter does not include them. Also confirm the fork's maximum rotor size before you order.",
], bad="Yes, just bolt it on, nothing else changes.",
   follows=["bed_in", "rotor_mount"], tech=True)

unit("tire_width", [
    "What is the widest tire I can fit on my gravel bike? The rims are 21 mm internal and the current tires are 38 mm.",
    "I would like to try 45 mm gravel tires. Is there anything I need to check before ordering?",
    "Would the Brightline Gravelpath 700x40 fit a frame that currently runs 35 mm tires?",
], [
    "The rim is rarely the limit at that width; a 21 mm internal rim is comfortable with tires roughly 35 to 50 mm wide. The real limit is frame and fork clearance, so measure the narrowest gap at the chainstays and the fork crown and leave at least 4 mm on each side of the tire. Your frame maker's specifications often list a maximum tire size as well.",
    "Check two things: the clearance in your frame and fork, and the rim's internal width. Tires usually measure a little wider than their label on wider rims, so keep at least 4 mm of room on each side for mud and wheel flex. Most tires in that range work well on rims with an internal width between 21 and 25 mm.",
], bad="Any tire fits as long as it says 700c on the side.",
   follows=["tire_pressure_follow", "tubeless_follow"], tech=True)

unit("bb_standard", [
    "How do I know which bottom bracket to buy? The old one is creaking.",
    "I am replacing my cranks and need a new bottom bracket too. Where do I start?",
    "Does the Halden BSA bottom bracket fit every frame, or are there different versions?",
], [
    "You need two pieces of information: the shell standard of your frame and the spindle diameter of your crankset. Threaded shells are usually BSA, 68 mm wide on road bikes and 73 mm on many mountain bikes, while press-fit frames use standards like BB86 or BB92. Tell us the frame and crank model and we will match the right bottom bracket for you.",
    "Start with the frame: measure the width of the bottom bracket shell and check whether it is threaded or press-fit. Then check the crank spindle, which is most often 24 mm on older cranks and close to 29 mm on many newer ones. With those two details the choice usually comes down to a single part.",
], bad="Bottom brackets are universal, so any one will do.",
   follows=["creak_other_causes", "workshop_install"], tech=True)

unit("seatpost", [
    "Which seatpost diameter do I need? I am looking at the Marrow Bay carbon post.",
    "Can I put a 27.2 mm seatpost into a frame that takes 31.6 mm?",
    "How do I measure my current seatpost so I order the right replacement?",
], [
    "The post has to match the inside diameter of your seat tube, which is often stamped on the old post near the minimum insertion mark. The Marrow Bay post comes in 27.2 mm only, so it fits frames built for 27.2 mm, or larger frames with a shim. If you are unsure, measure the old post with calipers rather than guessing.",
    "Yes, with a shim that fills the gap between 27.2 mm and the frame's 31.6 mm. Shims work well and are common with carbon posts, which are most often made in 27.2 mm. Make sure the shim is long enough and grease it lightly so it does not creak.",
], bad="Seatposts are all the same size, so just order any of them.",
   follows=["carbon_paste", "torque_follow"], tech=True)

unit("bar_clamp", [
    "My stem has a 31.8 mm clamp. Can I use a 35 mm handlebar with it?",
    "I am buying a new bar with a 35 mm clamp. Do I need a new stem too?",
    "What do the 31.8 and 35 numbers mean when shopping for handlebars?",
], [
    "Those numbers are the clamp diameter in millimetres where the bar meets the stem, and the two must match exactly. A 35 mm bar needs a 35 mm stem, and there are no shims that go in that direction. If you want to keep a 31.8 mm stem, choose a bar with a 31.8 mm clamp instead.",
    "Yes, you need a stem with a 35 mm clamp to match. Stems and bars must share the same clamp size, otherwise the bar will either not fit or will slip. We stock 35 mm stems from 40 to 70 mm long if you need one.",
], bad="It will be fine, the bolts will squeeze it to size.",
   follows=["torque_follow", "bar_width"], tech=True)

unit("mix_shifter", [
    "Can I use a 12-speed rear derailleur with my 11-speed shifter? I want a wider gear range.",
    "My 11-speed shifter still works but the derailleur is worn out. Is it fine to upgrade only the derailleur to 12-speed?",
    "Would the Stratus 12-speed rear derailleur index properly with an older 10-speed lever?",
], [
    "It will not index properly. The derailleur and shifter are designed around the same cable pull ratio and number of speeds, so mixing generations leads to gears that never line up. For a wider range on 11-speed, look at an 11-speed derailleur with a longer cage that accepts a bigger cassette.",
    "We would advise against it, because a 12-speed derailleur moves a different distance per click than your shifter expects. The result is shifting that drifts out of alignment across the cassette. If you plan to go 12-speed eventually, upgrade the shifter, derailleur, chain and cassette together.",
], bad="Yes, derailleurs and shifters from any generation work together.",
   follows=["derailleur_capacity", "workshop_install"], tech=True)

unit("tubeless", [
    "I bought the Tallwood sealant and want to set my wheels up tubeless. What else do I need?",
    "Is converting to tubeless worth it, and what parts would I need?",
    "How much sealant should go into each tire when I set up tubeless?",
], [
    "You need tubeless-ready rims and tires, tubeless rim tape wide enough to cover the spoke holes, and a pair of tubeless valves. Use about 40 ml of sealant for a road tire, 60 ml for gravel and 100 ml for a 29-inch trail tire. A floor pump with a charge chamber helps the tire seat on the first try.",
    "For most riders it is worth it, because sealant fixes small punctures and you can run lower pressure without pinch flats. You will need tubeless-ready rims and tires, rim tape, valves and sealant. Plan to top up the sealant every three to six months, since it slowly dries out.",
], bad="Just pour sealant into your normal inner tubes and you are done.",
   follows=["sealant_topup", "tire_pressure_follow"], tech=True)

unit("brake_pads", [
    "What is the difference between resin and sintered brake pads? I ride mostly in the rain.",
    "Which brake pads should I get for muddy winter riding?",
    "My resin pads wear out in a month over the winter. Is there a longer-lasting option?",
], [
    "Resin pads are quieter and bite well from the first touch, but they wear faster, especially in wet grit. Sintered pads contain metal particles, last much longer in wet and muddy conditions and cope better with heat on long descents. For riding mostly in the rain, sintered pads are the better choice, as long as your rotors are rated for them.",
    "For wet and muddy riding we recommend sintered pads. They last far longer than resin pads when the rotors are covered in grit, and they stay consistent when hot. The trade-off is a little more noise and a slightly slower initial bite.",
], bad="All brake pads are the same, so buy the cheapest.",
   follows=["bed_in", "pad_wear_limit"], tech=True)

unit("brake_squeal", [
    "My disc brakes started squealing after I cleaned the bike. Any idea what is wrong?",
    "My front brake howls every time I use it, and the power seems weaker than before.",
    "Since I lubed my chain with a spray, the rear brake makes a horrible noise. What should I do?",
], [
    "The most common cause is contamination, for example spray lubricant or degreaser reaching the rotor or pads. Clean the rotor with isopropyl alcohol, and lightly sand the pad surfaces, or replace them if they look glazed or oily. Then bed them in again with 10 to 20 firm stops from moderate speed.",
    "Squealing together with less power usually points to oil or lubricant on the pads. Pads that have soaked up contamination rarely recover, so a new set is the reliable fix, along with a wipe of the rotor using isopropyl alcohol. Afterwards, bed in the new pads before you ride anywhere steep.",
], bad="Spray some lubricant on the rotor and the noise will stop.",
   follows=["bed_in", "pad_wear_limit"], tech=True)

unit("brake_fluid", [
    "My brakes use mineral oil. Can I top them up with DOT fluid if that is what I have at home?",
    "What fluid goes in the Stratus S4 hydraulic brakes?",
    "The lever on my hydraulic brake feels spongy. Does that mean it needs new fluid?",
], [
    "Please do not mix them. Brakes designed for mineral oil have seals that swell and fail when exposed to DOT fluid, which can cause a complete loss of braking. Use only the fluid printed on the brake lever or reservoir cap.",
    "Stratus brakes use mineral oil, and the type is also printed on the master cylinder cap. Never put DOT fluid in them, because it damages the seals. A bleed kit with the correct syringes makes the job straightforward, or our workshop can bleed them for $35 per brake.",
    "A spongy lever usually means air has got into the system, and a bleed is the fix. It is worth bleeding the brakes about once a year anyway, because old fluid loses performance. Our workshop bleeds brakes for $35 each, or you can do it at home with the bleed kit for your brand.",
], bad="Any brake fluid works, they are all interchangeable.",
   follows=["workshop_install", "bleed_interval"], tech=True)

unit("chain_wear", [
    "How do I know when it is time to replace my chain?",
    "Is there an easy way to check chain wear without taking the chain off?",
    "My shifting is getting sloppy after about 4,000 km. Could the chain be worn?",
], [
    "Use a chain checker tool, which drops into the links and shows how far the chain has stretched. Replace 11 and 12-speed chains at 0.5 percent wear and older chains at 0.75 percent. Replacing the chain on time protects your cassette and chainrings, which cost much more.",
    "A chain wear gauge is the simplest method and takes seconds with the chain still on the bike. Once it reads 0.5 percent on an 11 or 12-speed chain, it is time for a new one. Waiting longer wears the cassette too, and then even a new chain will skip on the old cogs.",
], bad="Chains last forever, so it is probably something else.",
   follows=["chain_length", "quick_link", "lube_follow"], tech=True)

unit("torque", [
    "What torque should I use on my carbon handlebar stem bolts?",
    "Do I really need a torque wrench for a carbon seatpost clamp?",
    "How tight should the faceplate bolts on a stem be?",
], [
    "Always use the torque printed on the stem or handlebar, and if the two differ, go with the lower number. Stem faceplate bolts are usually between 4 and 6 Nm, tightened gradually in a cross pattern. A small dab of carbon assembly paste lets you use less clamping force without slipping.",
    "Yes, it is strongly recommended. Carbon can crack when overtightened, often without visible damage at first, so use a torque wrench set to the value printed on the post or frame, usually around 5 to 6 Nm. Carbon assembly paste adds grip and helps keep the required torque low.",
], bad="Tighten it as hard as you can so nothing slips.",
   follows=["carbon_paste", "torque_wrench_pick"], tech=True)

unit("tire_pressure", [
    "What pressure should I run in 28 mm road tires? I weigh about 75 kg.",
    "I just switched to 40 mm gravel tires. How much air should I put in them?",
    "My new Brightline Citysafe tires feel harsh on rough streets. Am I running too much pressure?",
], [
    "For a 75 kg rider on 28 mm tires with inner tubes, 70 to 80 psi is a good starting point, a little lower at the front than the rear. If you run tubeless, you can go about 5 psi lower. Try a few rides and adjust in small steps until the bike feels fast without bouncing on rough roads.",
    "Wider tires need far less pressure than narrow road tires; 30 to 40 psi is a typical range for 40 mm gravel tires, depending on your weight and the surface. Start in the middle of that range and drop by 2 psi at a time until the tire feels supple without the rim hitting rocks. Tubeless setups can go a little lower than tubes.",
    "Quite possibly. A 35 mm tire is comfortable at far lower pressure than a narrow road tire, typically 45 to 60 psi depending on your weight and luggage. Try dropping 5 psi at a time until the ride smooths out without the tire feeling squirmy in corners.",
], bad="Always pump every tire to the maximum printed on the sidewall.",
   follows=["pump_gauge", "tubeless_follow"], tech=True)

unit("valve_type", [
    "What is the difference between Presta and Schrader valves? My new wheels have the thin ones.",
    "I bought tubes with the wrong valves for my rims. Does it really matter?",
    "Will the Northwind Track floor pump work with the skinny valves on my road bike?",
], [
    "The thin valves are Presta, which are common on road and gravel wheels, while Schrader valves are the wider ones found on car tires. Rims are drilled for one or the other, so a Schrader tube does not fit a Presta rim without drilling. Most modern pumps, including the Northwind Track, have a head that works with both.",
    "It matters, because the valve hole in the rim is sized for one type. A Schrader valve is too wide for a Presta hole, and a Presta valve in a Schrader hole can wobble and tear at the base. If you still have the packaging, unused tubes can be exchanged within 30 days.",
], bad="Valves are all the same, it does not matter.",
   follows=["valve_length_follow", "pump_gauge"], tech=True)

unit("indexing", [
    "My gears skip between the third and fourth cog. How do I adjust that?",
    "Shifting has gone noisy since I replaced my rear wheel. What should I look at first?",
    "The chain will not drop to the smallest cog unless I push the lever twice. Any tips?",
], [
    "Start with the barrel adjuster on the derailleur or shifter. Shift to a middle cog and turn the adjuster a quarter turn anticlockwise if the chain hesitates to climb, or clockwise if it hesitates to drop, then test again. If it still skips after small adjustments, check for a bent hanger or a worn chain.",
    "A new wheel often positions the cassette slightly differently, so the indexing needs a small tweak. Shift through the gears and use the barrel adjuster a quarter turn at a time until the chain sits quietly on every cog. If the noise stays, a bent derailleur hanger is the next thing to check.",
], bad="Tighten the limit screws all the way and it will fix itself.",
   follows=["hanger_check", "workshop_install"], tech=True)

unit("lights", [
    "How many lumens do I need for commuting home in winter?",
    "Is the Brightline 1000-lumen front light overkill for riding on city streets?",
    "I ride a dark canal path twice a week. Which front light would you suggest?",
], [
    "On lit city streets, 300 to 600 lumens is enough to be seen and to spot potholes. If part of your route is unlit, such as a park path or country road, 800 lumens or more makes a real difference. Add a bright rear light as well, ideally one with a daytime flash mode.",
    "Not necessarily overkill, since it has lower modes that save battery in town. On city streets you would mostly use the 400-lumen setting and keep the full output for dark paths. Angle it slightly down so you do not dazzle oncoming riders.",
], bad="Any light will do, lumens do not matter.",
   follows=["battery_life", "rear_light"])

unit("helmet_size", [
    "How do I pick the right size for the Tallwood Vista MIPS helmet?",
    "I am between sizes for a helmet. Should I go up or down?",
    "My old helmet is a medium from another brand. Will a medium Tallwood Vista fit the same?",
], [
    "Measure the circumference of your head about 2 cm above your eyebrows with a soft tape. The Tallwood Vista comes in S for 51 to 55 cm, M for 55 to 59 cm and L for 59 to 63 cm. If you are right on the border, try both: size exchanges on helmets are free within 30 days.",
    "When you are between sizes, the smaller helmet usually fits better as long as it sits level without pressure points, because the retention dial can open it slightly. A helmet that is too large moves around in a crash. Our helmet exchanges are free if the first size does not work out.",
], bad="Buy the biggest size, it will fit everyone.",
   follows=["helmet_replace", "exchange_instead"])

unit("winter_tires", [
    "Do I need studded tires for commuting in icy weather?",
    "Are studded tires worth buying if we only get ice a few weeks a year?",
    "How should I set up my bike for a winter of commuting on snowy roads?",
], [
    "If your route has regular ice, studded tires are the single biggest safety upgrade you can make. They are slower and louder on dry pavement, so many riders keep a second wheelset or swap tires only for the icy months. On cold but dry roads, a wide tire at lower pressure is usually enough.",
    "For a few weeks of ice, they can still be worth it, because one fall on ice costs more than a pair of tires. Studs last several seasons if you avoid long rides on bare pavement. Run them about 10 psi below your usual pressure so more studs touch the road.",
], bad="Studded tires are never needed, regular tires grip ice fine.",
   follows=["lube_follow", "tire_pressure_follow"])

unit("chain_lube", [
    "Should I use wet or dry chain lube? I ride all year round.",
    "How often should I lube my chain?",
    "My chain squeaks again two days after I lube it. Am I doing something wrong?",
], [
    "Wet lube lasts longer in rain and winter but attracts more dirt, while dry lube stays cleaner in dry, dusty conditions but washes off quickly. For year-round riding, many people use wet lube from autumn to spring and dry lube in summer. Whatever you choose, wipe the chain clean before each application.",
    "A good rule is every 150 to 300 km, and sooner after a wet ride. Apply one drop per roller, turn the cranks a few times and wipe off the excess so the outside of the chain is almost dry. If the chain sounds noisy or looks dry, it is time again.",
    "A chain that squeaks again after two days usually had its lube applied over dirt, or the lube is too light for your conditions. Clean and dry the chain thoroughly, apply one drop per roller and let it soak in for a few hours before wiping off the excess. In wet weather, a wet lube lasts much longer than a dry one.",
], bad="Use cooking oil, it works just as well.",
   follows=["chain_wear_follow", "degreaser"], tech=True)

unit("pedals_cleats", [
    "Will the Northwind Trail flat pedals work with my cycling shoes that have cleats?",
    "What is the difference between two-bolt and three-bolt cleats?",
    "I want to try clipless pedals for the first time. What do I need to buy?",
], [
    "Flat pedals work with any shoe, but cleats sticking out of the sole will feel slippery on the pins. If you want to clip in, you need pedals that match your cleat system. Some riders use dual-sided pedals with one flat side and one clipless side.",
    "Two-bolt cleats are small and recessed into the sole, so you can walk normally; they are common on mountain bike and touring shoes. Three-bolt cleats are larger, sit on the outside of road shoes and spread the pedalling force over a wider platform. Your pedals and shoes must match the same system.",
    "You need a pair of clipless pedals, shoes that match their cleat system, and the cleats, which usually come with the pedals. Two-bolt systems are the easiest start because the shoes are walkable. Practise clipping in and out a few times while leaning against a wall before your first ride.",
], bad="Any cleat works with any pedal.",
   follows=["cleat_position", "pedal_install"], tech=True)

unit("wheel_sizes", [
    "Are 700c and 29-inch tires the same size? I want to put gravel tires on my mountain bike.",
    "What does 700x35c mean on a tire, and will it fit a 650b wheel?",
    "I have 27.5-inch wheels. Which of your tires are the right size for them?",
], [
    "Yes, both have the same 622 mm bead seat diameter, so the tire and rim sizes are compatible. The labels differ because road and mountain tires grew up with different naming habits. Check the tire width against your frame clearance and rim width before ordering.",
    "The 700 refers to the wheel size and 35 to the tire width in millimetres, while the c is a leftover from an old French sizing system. A 700c tire has a 622 mm bead seat and a 650b tire has 584 mm, so they are not interchangeable. Look for tires marked 650b or 27.5 inch for that wheel instead.",
    "Tires for 27.5-inch wheels are also sold as 650b, and both names mean a 584 mm bead seat diameter. In our catalogue, filter by wheel size and choose 27.5 inch, then pick a width that suits your rims and frame clearance. Tires marked 700c or 29 inch are larger and will not fit those wheels.",
], bad="700c and 650b are the same size, so either will fit.",
   follows=["tire_pressure_follow", "tubeless_follow"], tech=True)

unit("ebike_parts", [
    "Are your chains rated for e-bikes? Mine is a mid-drive commuter.",
    "Do e-bikes need special brake pads? My commuter weighs about 25 kg and I ride down a long hill every day.",
    "My e-bike eats cassettes every few months. Is there anything more durable?",
], [
    "Several are, and they are marked as e-bike rated on the product page. Mid-drive motors put extra torque through the chain, so a reinforced chain lasts noticeably longer. Check the chain for wear more often as well, roughly every 500 km.",
    "Not always, but e-bikes are heavier and faster on average, so pads wear quicker and run hotter. Sintered pads or pads labelled for e-bikes cope better with that. Larger rotors, such as 203 mm at the front, also help if your frame and fork allow them.",
    "E-bike drivetrains wear faster because of the extra torque, especially with mid-drive motors. A steel cassette labelled for e-bikes lasts much longer than a lightweight one, and replacing the chain before it reaches 0.5 percent wear protects the cassette. Easing off the pedals for a moment while you shift also helps a lot.",
], bad="E-bikes use the same parts and wear the same as any other bike.",
   follows=["chain_wear_follow"], tech=True)

# --- store, services and money --------------------------------------------------------------
unit("workshop_booking", [
    "Can I book a full service at your Riverside workshop? The gears and brakes both need attention.",
    "How much is a basic tune-up, and how long do I have to leave the bike with you?",
    "My bike has not been serviced in two years. What would you recommend booking?",
], [
    "You can book online or at the workshop counter. A full service is $189 and includes a strip, clean and rebuild of the drivetrain, hubs and headset, while a basic tune-up is $69. Current lead time is about a week, and most bikes are ready within two working days of drop-off.",
    "A basic tune-up costs $69 and covers gear and brake adjustment, wheel truing and a safety check. If you drop the bike off in the morning, it is usually ready the next working day. Parts are charged separately, and we always ask before fitting anything that costs more than $20.",
], bad="Just bring it in whenever, we will see what we can do.",
   follows=["store_hours", "bring_own_parts"])

unit("click_collect", [
    "Can I order online and pick up from the Riverside store?",
    "Is there a way to avoid shipping costs if I live near your store?",
    "How long do you hold click and collect orders at the counter?",
], [
    "Yes, choose click and collect at checkout and select the Riverside store. Items in stock there are ready in about two hours, and you will get an email when your order is waiting at the counter. Bring the order confirmation and we will hand it over.",
    "If you are close to the Riverside store, click and collect is free. Pick the store at checkout and wait for the ready-for-pickup email, which usually arrives within two hours for in-stock items. We hold collected orders for 14 days.",
], bad="Pickup is not really a thing, everything has to be shipped.",
   follows=["store_hours", "someone_else_collects"])

unit("price_match", [
    "I found the {product} cheaper at another shop. Do you price match?",
    "Another retailer has the same {product} for ten dollars less. Would you match that?",
    "Before I buy the {product}, can you match a lower price I saw online?",
], [
    "We do. We match the advertised price of an authorised retailer for the identical item, as long as it is in stock there. Send a link to the offer here, before you order or within 7 days after, and we will adjust the price or refund the difference.",
    "Yes, as long as the other shop is an authorised retailer and has the item in stock at that price. Share the link with us and, once confirmed, we will apply the lower price. If you already bought it within the last 7 days, we refund the difference instead.",
], bad="We never match prices from other shops, sorry about that.",
   follows=["price_match_marketplace", "rewards_on_order"])

unit("price_drop", [
    "I bought the {product} last week and today it is on sale. Can I get the difference back?",
    "The price of something I ordered {n} days ago just dropped. Is there any price protection?",
    "I paid full price last week and now the same item is 20 percent off. Anything you can do?",
], [
    "Yes, we refund the difference if our price drops within 14 days of your purchase. Reply with your order number and we will credit the difference to your original payment method, usually within 3 business days. This applies to our own price cuts, though not to clearance items or bundle deals.",
    "We offer a price adjustment for 14 days after purchase. Send your order number and we will refund the difference straight away. Clearance items are the only exception.",
], bad="Prices change all the time, so there is nothing to refund.",
   follows=["refund_to_gift_card"])

unit("payment_methods", [
    "Which payment methods do you accept? I would prefer not to use a credit card.",
    "Can I pay in instalments for the Marrow Bay alloy wheelset?",
    "Do you take PayPal, or is it cards only?",
], [
    "Besides credit and debit cards, we accept PayPal, Apple Pay and Google Pay. For orders between $100 and $1,500 you can also split the payment into four interest-free instalments at checkout. Gift cards and reward vouchers can be combined with any of these.",
    "Yes, orders between $100 and $1,500 can be split into four interest-free payments, chosen at checkout. The first payment is taken when the order ships and the rest follow every two weeks. Approval only takes a few seconds.",
], bad="We only take credit cards, nothing else.",
   follows=["gift_card_combo"])

unit("payment_declined", [
    "My card keeps getting declined at checkout even though it has plenty of funds. What is happening?",
    "Checkout fails at the payment step every time. I have tried three times now.",
    "Why would my payment be refused on your site when it works everywhere else?",
], [
    "The most common reasons are a billing address that does not exactly match the one your bank has on file, or a bank security check on online payments. Try entering the address exactly as it appears on your statement, or approve the payment in your banking app if it asks. If it still fails, PayPal or Apple Pay usually go through without issue.",
    "When a payment fails repeatedly, the bank has usually blocked it as a precaution, and a quick call to them or a confirmation in their app clears it. Also check that the postcode matches your billing address. Your basket is saved, so nothing is lost while you sort it out.",
], bad="Your card is probably broken, try another one.",
   follows=["pending_charge", "gift_card_combo"])

unit("double_charge", [
    "I see two charges for order {oid} on my statement. Did I pay twice?",
    "My bank shows a pending charge even though I cancelled the order. Why is that?",
    "There is a charge from Northwind Cycles that I do not recognise. Can you help me check it?",
], [
    "One of them is most likely a pending authorisation rather than a second payment. We authorise the card when you order and capture it when the parcel ships, and the pending hold drops off within 3 to 5 business days. If both are still there after a week, reply here and we will check with our payment provider.",
    "That is an authorisation hold, not a completed charge. Cancelled orders are never captured, so the hold expires on its own, usually within 5 business days depending on your bank. If it becomes a final charge, let us know and we will refund it immediately.",
    "Happy to help. Charges from us appear as Northwind Cycles on statements, and a pending amount is often a hold for an order that has not shipped yet. Send us the amount and the date it appeared, and we will match it to an order on our side.",
], bad="That is your bank's problem, not ours.",
   follows=["refund_to_gift_card"])

unit("discount_code", [
    "My discount code {code} says it is invalid at checkout. Can you help?",
    "I got a welcome code by email but it will not apply to my basket. Why?",
    "Can I use two discount codes on the same order? I have {code} and a rewards voucher.",
], [
    "Codes usually fail for one of three reasons: they have expired, the basket is below the minimum value, or some items are excluded, such as sale items and gift cards. Check the terms in the email the code came with. If everything looks right and it still does not apply, send us the code and the items and we will apply the discount manually.",
    "Only one promotional code works per order, but a rewards voucher counts separately, so you can combine one code with one voucher. Promotional codes apply to full-price items only and often need a minimum basket of $50. If your basket is mostly sale items, that explains why the code is rejected.",
], bad="The code is probably wrong, so you should ask for a new one.",
   follows=["rewards_on_order"])

unit("gift_card", [
    "Do your gift cards expire? I got one for my birthday two years ago.",
    "Can I use a gift card together with PayPal for the rest of the amount?",
    "I want to send a digital gift card to a friend who rides a lot. How does that work?",
], [
    "Our gift cards never expire, so the full balance is still there. Enter the code at checkout and any remaining amount can be paid by card or PayPal. You can also check the balance on the gift card page at any time.",
    "Digital gift cards are sent by email on the date you choose, with a personal message if you like, in values from $20 to $300. Your friend can use them online or in our Riverside store, and they never expire. Any leftover balance stays on the card for next time.",
], bad="Gift cards expire one year after they are bought.",
   follows=["gift_card_combo", "rewards_on_order"])

unit("rewards", [
    "How do Northwind Rewards points work?",
    "I have 450 reward points. What are they worth?",
    "When do reward points show up after I place an order?",
], [
    "You earn one point for every dollar spent, and every 200 points can be turned into a $10 voucher. Points appear in your account once the order ships and stay valid for two years. Vouchers can be used on anything except gift cards.",
    "Every 200 points converts into a $10 voucher, so 450 points give you two vouchers worth $20 in total, with 50 points left over. You can redeem them from the Rewards page in your account, and the voucher codes work at checkout straight away.",
], bad="Each reward point is worth one dollar at checkout.",
   follows=["gift_card_combo", "points_on_return"])

unit("club_discount", [
    "Do you offer discounts for cycling clubs? Our club has about 40 members.",
    "Is there a team discount if several riders from my club order together?",
    "Our youth cycling team needs new helmets. Is there a discount for clubs?",
], [
    "Yes, registered clubs get 10 percent off full-price items through a shared club code. A club officer can apply through the form on our Clubs page, and approval usually takes a few days. The code works online and in our Riverside store.",
    "We have a club programme that gives members 10 percent off full-price parts and accessories. Ask your club secretary to register the club on our website, and we will send a code that every member can use. Orders do not need to be placed together.",
], bad="We do not give discounts to clubs or anyone else.",
   follows=["bulk_order", "rewards_on_order"])

unit("backorder", [
    "The {product} shows as backordered. When will it be back in stock?",
    "If I order something that is on backorder, when do you take the payment?",
    "Is it worth ordering the {product} now even though it says backordered?",
], [
    "The current estimate is shown on the product page and is updated whenever our supplier confirms a delivery. You can order now to hold your place in the queue, and we only charge your card when the item ships. If you change your mind, you can cancel at any time before dispatch.",
    "We authorise the payment when you order but only capture it when the item ships. You keep your place in the queue, and you can cancel free of charge at any point before dispatch. We will email you if the expected date changes.",
], bad="No idea when it comes back, just check the website later.",
   follows=["split_order", "notify_me"])

unit("restock", [
    "The Stratus 12-speed rear derailleur is sold out in the long cage version. Can you tell me when it is back?",
    "Is there a way to get notified when an out-of-stock item is available again?",
    "You have been out of the {product} for weeks. Are you still going to carry it?",
], [
    "Yes, use the Notify me button on the product page and we will email you as soon as stock arrives. We usually receive new stock of popular items every two to three weeks. Items are not reserved, so it is worth ordering soon after the email arrives.",
    "Click Notify me on the product page and you will get an email the moment it is back. Our next delivery from that supplier is expected in about two weeks, though supplier dates do move. If you need it sooner, we are happy to suggest a compatible alternative that is in stock now.",
], bad="It will probably be back in stock at some point soon.",
   follows=["alternative_part"])

# --- account and admin ----------------------------------------------------------------------
unit("password_reset", [
    "I forgot my password and the reset email never arrives. What should I do?",
    "The password reset link says it has expired. How do I get a new one?",
    "I no longer remember which email I used for my Northwind account. How do I log in?",
], [
    "Check your spam or promotions folder first, as reset emails sometimes land there. The link is valid for one hour, so request a new one if the old one has expired. If nothing arrives within ten minutes, reply here with the name on the account and we will help you reset it.",
    "Reset emails usually arrive within a couple of minutes. If yours has not, make sure you are using the same address you registered with, since a typo creates a different account. We can also trigger the reset for you from our side once we have confirmed the account is yours.",
], bad="Just make a new account with a different email.",
   follows=["guest_points"])

unit("guest_order", [
    "I checked out as a guest. Can I still track the order and earn reward points?",
    "Is it possible to attach a guest order to an account I create afterwards?",
    "Do I need an account to order, or can I just check out as a guest?",
], [
    "You can track a guest order from the link in your confirmation email. To earn points, create an account with the same email address within 30 days, and the order will be linked automatically. Points are added once the order has shipped.",
    "An account is optional, and guest checkout works for every order. With an account you can see your order history, start returns in a few clicks and collect reward points. If you create one later with the same email address, recent guest orders are linked to it.",
], bad="Guest orders do not count for anything.",
   follows=["rewards_on_order"])

unit("marketing_emails", [
    "How do I stop getting your marketing emails but still receive order updates?",
    "I keep getting newsletters from you. Can I turn those off?",
    "Can I choose to receive only sale announcements instead of every newsletter?",
], [
    "Use the unsubscribe link at the bottom of any newsletter, or switch off marketing emails under Communication settings in your account. Order confirmations, shipping updates and return emails are service messages, so you will keep receiving those.",
    "Yes, the Communication settings page in your account lets you pick topics, such as sales only or new arrivals. Changes take effect within a day. Service emails about your orders are always sent regardless of these settings.",
], bad="Just mark our emails as spam and they will stop.",
   follows=["delete_account"])

unit("invoice", [
    "I need a tax invoice for order {oid} for my company. Can you send one?",
    "Can I get an invoice with my business name on it?",
    "Where do I find the invoice for an order I placed last month?",
], [
    "You can download a full invoice from the order page in your account. If you need your company name or tax number on it, reply with those details and we will issue a corrected invoice within one business day.",
    "Every order has a downloadable invoice on its page under Orders in your account. For guest orders, the invoice is attached to the shipping confirmation email. Let us know if anything on it needs changing.",
], bad="We do not provide invoices, the order email will have to do.",
   follows=["business_account"])

# --- product advice --------------------------------------------------------------------------
unit("commuter_kit", [
    "I am starting to commute 12 km each way. What accessories should I get first?",
    "My partner just started riding to work. What would make a good starter kit?",
    "What do I really need for a daily commute in a rainy city?",
], [
    "Start with a good set of lights, a sturdy lock and mudguards, since those make daily riding safer and more pleasant. Puncture-resistant tires are worth it if your route has a lot of glass. A small saddle bag with a spare tube, tire levers and a multitool covers most roadside problems.",
    "For a daily commute, front and rear lights come first, followed by mudguards so you arrive dry. A rack and a pannier keep the weight off your back. Add a compact tool kit and a spare tube so a flat tire does not turn into a long walk.",
], bad="You do not need anything, just ride.",
   follows=["rack_fit", "rear_light"])

unit("home_tools", [
    "What tools should a beginner have to do basic maintenance at home?",
    "I want to start servicing my own bike. Which tools are worth buying first?",
    "Is the Northwind 14-function multitool enough for home maintenance?",
], [
    "A floor pump with a gauge, a set of hex keys from 2 to 8 mm, tire levers and a chain checker cover most basic jobs. Add a chain tool and a cassette tool when you start replacing drivetrain parts. A torque wrench is worth it if your bike has carbon parts.",
    "The multitool is great for roadside fixes, but at home proper hex keys give better leverage and are less likely to round off bolts. Pair them with a floor pump, tire levers and a chain checker. Specialised tools such as a cassette lockring tool can wait until you actually need them.",
], bad="A hammer and pliers will do for most things.",
   follows=["torque_wrench_pick", "workshop_install"], tech=True)

unit("gravel_tire_pick", [
    "Which gravel tire would you recommend for mostly hardpack with some mud?",
    "I ride a mix of forest roads and tarmac. Is the Brightline Gravelpath a good choice?",
    "What tread pattern works best on hardpack gravel that turns muddy after rain?",
], [
    "For hardpack with occasional mud, a tire with a fast, tight centre tread and more pronounced shoulder knobs is the best compromise. The Brightline Gravelpath 700x40 is exactly that kind of tire and rolls well on tarmac too. If your rides are mostly muddy, a more open, aggressive tread clears better.",
    "The Gravelpath suits that mix well, with a low centre tread for tarmac and side knobs that grip in corners on loose forest roads. At 40 mm it gives enough volume for comfort without feeling sluggish. Run it tubeless if you can, since gravel is hard on inner tubes.",
], bad="Road slicks are best for everything.",
   follows=["tubeless_follow", "tire_pressure_follow"], tech=True)


# --- follow-up turns (keyed from the units above) --------------------------------------------
follow("change_address_transit", [
    "Can I change the delivery address while it is already in transit?",
    "If it does start moving, could it be sent to my office instead of my home?",
], [
    "Once the parcel is with the carrier, we can request a redirect, and most carriers accept it before the parcel reaches the local depot. Send us the new address and we will submit the request the same day. Redirects are free for you, though they can add a day to the delivery.",
    "Yes, we can ask the carrier to redirect it to another address in the same country. Reply with the new address and we will put the request in; you will see the change on the tracking page within a few hours.",
])
follow("express_upgrade", [
    "Is it possible to upgrade the shipping to express now?",
    "Could I still switch this order to express so it arrives before {day}?",
], [
    "If the order has not been dispatched yet, we can switch it to express for the $14.95 difference, and it will arrive the next business day after dispatch. Reply to confirm and we will update the shipping method and charge the difference to the same payment method.",
    "As long as it has not left the warehouse, yes. Express costs $14.95 more and arrives the next business day after dispatch, so confirm before 2 pm Pacific and it should reach you well before {day}.",
])
follow("replacement_express", [
    "Could you send the replacement by express so it arrives before {day}?",
    "I need the part for a ride on {day}. Will the replacement get here in time?",
], [
    "Yes, replacements always go by express at no cost to you. It will leave our warehouse today if we confirm before 2 pm Pacific, which should get it to you well before {day}.",
    "It should. Replacements ship by express at our cost, usually the same day, and express parcels arrive the next business day. You will get the tracking link by email as soon as it is on its way.",
])
follow("lost_parcel", [
    "And what happens if the carrier has actually lost it?",
    "What if the parcel never shows up at all?",
], [
    "If the carrier confirms it as lost, or the trace is still open after five business days, we send a replacement by express or refund you in full, whichever you prefer. You do not have to wait for the carrier to pay us first.",
    "Then we take care of it. A parcel that has not arrived ten business days after dispatch counts as lost, and we either reship the order by express or refund it completely. Just let us know which you would rather have.",
])
follow("pickup_instead", [
    "Would it be quicker to collect it from your store instead?",
    "Actually, could I just pick it up from the Riverside store?",
], [
    "If the item is in stock at the Riverside store, click and collect is usually ready within two hours and costs nothing. For an order that is already being shipped, we would need to cancel and re-place it, so let us know and we will check the store stock first.",
    "Yes, if it has not left the warehouse we can switch it to click and collect at Riverside. You will get an email when it is ready at the counter, usually the same day.",
])
follow("refund_instead", [
    "Could I just get a refund instead of a replacement?",
    "I would actually prefer my money back. Is that possible?",
], [
    "Of course. We will refund the full amount, including the original shipping, to your original payment method, and you should see it within 3 to 5 business days. There is nothing you need to send back for a parcel that never arrived.",
    "Yes, a refund is fine. As soon as you confirm, we issue it to the original payment method, and banks usually show it within a few business days.",
])
follow("neighbour_delivery", [
    "Could the carrier have left it with a neighbour without telling me?",
    "Is it possible it was delivered somewhere nearby, like a parcel locker?",
], [
    "It happens occasionally. The carrier's proof of delivery usually names the place or person it was left with, and we can request that record for you. Checking with neighbours or the building's parcel room is worth a try in the meantime.",
    "That is possible, especially if nobody was home. Carriers sometimes use a nearby locker or pickup point and leave a card that is easy to miss. We will ask the carrier for the delivery location and get back to you within one business day.",
])
follow("saturday_delivery", [
    "Do you deliver on Saturdays? I am at work all week and would rather be at home when it arrives.",
    "If I pick express on a Friday, will it come on the weekend?",
], [
    "Standard parcels are delivered Monday to Friday only. Express orders placed on a Friday before 2 pm can arrive on Saturday in most larger cities, and the checkout page shows whether that applies to your postcode.",
    "Express orders placed on Friday before the 2 pm cutoff are delivered on Saturday in many areas, otherwise on Monday. The delivery estimate at checkout already takes weekends into account.",
])
follow("rewards_on_order", [
    "Will I earn reward points on this order?",
    "Do I get Northwind Rewards points for this purchase as well?",
], [
    "Yes, you earn one point per dollar on the item total, excluding shipping. The points appear in your account once the order ships, and 200 points turn into a $10 voucher.",
    "You do, as long as you are signed in to your account when you check out. Points are added at dispatch, at one point per dollar spent.",
])
follow("intl_returns", [
    "And if I need to return something from abroad, how does that work?",
    "Are returns from outside the country free as well?",
], [
    "International returns follow the same 30-day policy, but you arrange the shipping yourself, and we recommend a tracked service. Once the parcel reaches us, we refund the item price within 5 business days. Faulty or incorrect items are different: we cover the return postage for those.",
    "Return postage from abroad is paid by the customer unless the item is faulty or we sent the wrong thing. Use a tracked service, include the order number in the parcel, and we refund the item within 5 business days of receiving it.",
])
follow("split_order", [
    "Part of my order is on backorder. Can you send the in-stock items first?",
    "Is it possible to ship what you have now and the rest later?",
], [
    "Yes, we can split the order so the in-stock items leave today and the backordered item follows when it arrives. The second parcel ships at no extra cost. Just confirm here and we will make the change.",
    "We can do that. The available items ship straight away, and the rest follows in a second parcel without any additional shipping charge.",
])
follow("pending_charge", [
    "Why does my bank still show a pending charge for the order?",
    "Will the amount on my card disappear automatically?",
], [
    "That is an authorisation hold rather than a payment. Because the order was never shipped, the hold is released automatically, usually within 3 to 5 business days depending on your bank.",
    "Yes, holds for orders that are not shipped drop off on their own. Most banks release them within five business days; if it is still there after a week, let us know and we will contact our payment provider.",
])
follow("reorder_other", [
    "Could you recommend an alternative that ships sooner?",
    "Is there something similar you could send me instead?",
], [
    "Tell us what you need the part for and which bike it goes on, and we will suggest in-stock alternatives that fit. Most items in stock leave the warehouse the same day if ordered before 2 pm Pacific.",
    "Happy to help with that. Share the bike model and what you are trying to achieve, and we will list a couple of compatible options that are in stock right now.",
])
follow("return_no_box", [
    "I threw away the original box. Can I still return it?",
    "Does it have to be in the original packaging?",
], [
    "We ask for the original packaging because we resell returned items as new. If the product itself is unused and undamaged, send it back well padded and we will usually still accept it, though a small restocking fee of 10 percent may apply.",
    "Ideally yes, since returned items go back on sale. If you no longer have the box, pack the part securely and include a note; unused items are normally still refunded, sometimes with a 10 percent restocking fee.",
])
follow("exchange_instead", [
    "Could I exchange it for a different size instead of getting a refund?",
    "What if I want to swap it for another model?",
], [
    "Choose exchange when you start the return and pick the new item. We ship it as soon as the carrier scans your return, so you do not have to wait for it to reach us. If the new item costs more, we charge the difference.",
    "Exchanges work the same way as returns, just choose exchange and select the replacement. Size exchanges on helmets and shoes are free, and for other items the usual $6.95 label cost applies.",
])
follow("refund_timing_follow", [
    "How long does the refund take once you have it?",
    "When will I see the money after you receive the parcel?",
], [
    "We process refunds within 5 business days of the return arriving, and you receive an email when it is done. Banks usually need another few days to show it on the statement.",
    "Usually within a week in total: up to 5 business days for us to inspect and refund, then a couple of days for the bank to post it.",
])
follow("discount_on_replacement", [
    "Okay, could I get that discount for the right part then?",
    "Fair enough. How do I use the discount on the replacement?",
], [
    "Of course. We have added a one-time 15 percent code to your account, and it applies automatically at checkout on the replacement part within the next 30 days.",
    "The code is now attached to your account and gives 15 percent off one item for 30 days. It applies automatically when you are signed in at checkout.",
])
follow("refund_to_gift_card", [
    "Could the refund go onto a gift card instead of my card?",
    "Is it faster if you refund me in store credit?",
], [
    "Yes, we can issue the refund as a Northwind gift card instead, which is available immediately and never expires. Just confirm here, and the gift card code will arrive by email within the hour.",
    "Store credit is instant, since it does not go through the bank. If you prefer that, reply to confirm and we will send a gift card code for the full amount.",
])
follow("keep_damaged", [
    "Do I need to send the damaged one back?",
    "What should I do with the broken part?",
], [
    "No, please keep it until the carrier's claim is closed, which usually takes about two weeks. After that you can dispose of it or recycle it.",
    "Hold on to it for now in case the carrier wants to inspect it. If we have not asked for it within 14 days, you can recycle it.",
])
follow("keep_wrong_item", [
    "Is it okay if I return the wrong item next week? I am away until then.",
    "Do I have to send the other part back straight away?",
], [
    "That is completely fine. The return label is valid for 30 days, so send it whenever it suits you.",
    "No rush at all. You have 30 days to use the free label, and the replacement ships today regardless.",
])
follow("warranty_without_receipt", [
    "I do not have the receipt anymore. Is that a problem?",
    "What if I bought it as a gift for someone else?",
], [
    "Not if you bought it from us, because the order is stored in our system. Tell us the email address or name the order was placed under, and we will find it. For gifts, the person who received it can make the claim with the original order number.",
    "That is fine. As long as we can find the original order, the warranty applies, and the recipient of a gift can claim it too. Share the name the order was under and roughly when it was placed.",
])
follow("loaner_part", [
    "Is there anything I can ride in the meantime while the claim is processed?",
    "Can you send me a replacement before the claim is decided?",
], [
    "For claims we expect to be approved, we can ship a replacement straight away and place a temporary hold on your card until the old part arrives. Let us know if you would like that, and we will set it up today.",
    "We offer an advance replacement on most warranty claims: we ship the new part now and release the temporary card hold once the faulty one reaches us.",
])
follow("chain_length", [
    "How do I know how long the new chain should be?",
    "Do I need to shorten the new chain before fitting it?",
], [
    "The easiest way is to count the links on your old chain, provided it was the right length, and match it. Otherwise, wrap the chain around the largest chainring and largest cog without going through the derailleur, and add two links. Always check the derailleur manual, because some 12-speed systems use a slightly different method.",
    "Almost always, yes. New chains come long so they fit any bike. Lay it next to the old chain and cut it to the same number of links, counting links rather than measuring, since the old chain has stretched.",
])
follow("quick_link", [
    "Can I reuse the quick link from my old chain?",
    "Do I need a special tool for the quick link?",
], [
    "Most quick links for 11 and 12-speed chains are designed for a single use, so fit the new one that comes with the chain. They also need to match the chain's speed.",
    "Quick link pliers make it much easier, especially to open the link. You can close it by holding the rear brake and pushing down firmly on a pedal until the link clicks into place.",
])
follow("derailleur_capacity", [
    "Will my current derailleur handle the bigger cassette?",
    "Does the derailleur need to change if I go to a wider range?",
], [
    "Check the maximum cog size listed for your derailleur. If the new cassette's biggest cog is larger than that, the upper pulley will hit the cog and shifting suffers, so you would need a long-cage or wide-range derailleur.",
    "Often yes. Every derailleur has a maximum cog size and a total capacity, and a 51-tooth cog exceeds what most older mountain bike derailleurs can handle.",
])
follow("bed_in", [
    "How exactly do I bed in new pads?",
    "Is bedding in really necessary?",
], [
    "Find a safe, flat road, get up to moderate speed and brake firmly down to walking pace without locking the wheel. Repeat that 10 to 20 times, then do a few harder stops. This lays a thin layer of pad material on the rotor and gives full power.",
    "Yes, skipping it can leave the brakes weak and noisy for a long time. Ten to twenty firm stops from moderate speed, without skidding, is all it takes.",
])
follow("rotor_mount", [
    "How do I know whether my hub uses six-bolt or centre lock rotors?",
    "Does the Corvid 180 mm rotor come in centre lock?",
], [
    "Look at the hub where the rotor attaches: six-bolt hubs have six small screws around the centre, while centre lock uses a splined interface held by a single lockring. Adapters exist to fit six-bolt rotors on centre lock hubs.",
    "The Corvid 180 mm rotor is six-bolt only. It works on centre lock hubs with an adapter, which we stock for about $15.",
])
follow("tire_pressure_follow", [
    "What pressure should I start with on those?",
    "How much air should the new tires have?",
], [
    "It depends on your weight, the tire width and whether you run tubes or tubeless. As a rough start, around 35 psi for a 40 mm tire or 75 psi for a 28 mm road tire, then adjust in small steps by feel.",
    "Start in the middle of the range printed on the sidewall, then lower it 2 psi at a time until the ride feels comfortable without squirming in corners. Wider tires need much less pressure than narrow ones.",
])
follow("tubeless_follow", [
    "Would it be worth running them tubeless?",
    "Can I set these up tubeless?",
], [
    "If both the rims and the tires are marked tubeless-ready, yes, and it is worth it for the puncture protection alone. You will need rim tape, valves and sealant.",
    "As long as your rims are tubeless-ready too, they work well tubeless. Most riders notice fewer flats and a smoother ride at lower pressure.",
])
follow("creak_other_causes", [
    "What if the creak is not actually the bottom bracket?",
    "Could something else be causing the creaking?",
], [
    "Quite possibly, since creaks travel through the frame. Pedals, the seatpost, the saddle rails and even a loose quick release are common culprits, so grease and retighten those first; it costs nothing and often solves it.",
    "Creaks are notoriously hard to locate. Check the pedal threads, the seatpost clamp and the chainring bolts before replacing anything, as a clean and a little grease often fix the noise.",
])
follow("workshop_install", [
    "Could your workshop fit it for me?",
    "Would it be easier to have the Riverside workshop do this?",
], [
    "Yes, bring the bike and the part to the Riverside workshop and we will fit it, usually within two working days. Fitting small parts like this costs $15 to $35 depending on the job, and you can book a slot online.",
    "If you do not have the tools, it is often the better choice. Book a slot online, drop the bike off and we will install and adjust everything, then call you when it is ready.",
])
follow("carbon_paste", [
    "Do I need carbon paste as well?",
    "What is carbon assembly paste for?",
], [
    "It is a grease with tiny grit particles that increases friction between carbon parts, so they hold at lower torque. A thin layer on the clamping area is enough, and it also reduces creaking.",
    "Yes, for any carbon clamping surface it is a good idea. It lets you reach a secure hold at a lower torque, which protects the carbon from crushing.",
])
follow("torque_follow", [
    "How tight should I make the bolts?",
    "What torque value should I use when I fit it?",
], [
    "Use the value printed on the part, usually between 4 and 6 Nm for stems and seatpost clamps, and tighten the bolts gradually and evenly. A small torque wrench makes this much easier than guessing.",
    "Follow the maximum torque marked on the component. If two parts are clamped together and show different values, use the lower one.",
])
follow("bar_width", [
    "How wide should my new handlebar be?",
    "Would a wider bar be more comfortable?",
], [
    "For drop bars, most riders start with a width close to their shoulder width; for flat bars, 720 to 780 mm is common on mountain bikes. A wider bar gives more control but can feel awkward in traffic.",
    "It can, because it opens up your chest and gives more leverage, but going too wide strains the shoulders. Measure the bar you have now and change it in small steps of 20 mm or so.",
])
follow("sealant_topup", [
    "How often should I top up the sealant?",
    "Does the sealant dry out over time?",
], [
    "Every three to six months, more often in hot, dry weather. Shake the tire and listen: if you no longer hear liquid sloshing, it is time to add more.",
    "It does, gradually. Check it every few months by removing the valve core and dipping a thin stick through the valve, then top up if the stick comes out dry.",
])
follow("pad_wear_limit", [
    "How do I tell when the pads are worn out?",
    "At what point should I replace my brake pads?",
], [
    "Replace them when the pad material is thinner than about 1 mm, or when the backing plate and pad together are under 3 mm. Shining a light into the caliper from above usually lets you see the gap.",
    "Once the braking material is down to about 1 mm, swap them. Riding on the metal backing plate damages the rotor and sharply reduces braking power.",
])
follow("bleed_interval", [
    "How often do hydraulic brakes need a bleed?",
    "Is a bleed something I should do every year?",
], [
    "For most riders once a year is plenty, or whenever the lever feels spongy or the bite point moves. Heavy riders and frequent descenders may want to do it twice a year.",
    "Roughly once a year for mineral oil brakes, more often if the lever starts to feel soft. It keeps the fluid fresh and the bite point consistent.",
])
follow("lube_follow", [
    "Which chain lube would you recommend for that?",
    "Do you sell a lube that works in wet weather?",
], [
    "For mixed and wet conditions, a wet lube is the safer choice because it lasts through rain. Wipe the chain afterwards so only the inside of the rollers stays lubricated.",
    "We stock both wet and dry lubes. In wet weather, the wet lube lasts much longer between applications; just clean the chain more often, as it collects grime.",
])
follow("torque_wrench_pick", [
    "Which torque wrench should I get for bike work?",
    "Is a small fixed torque tool enough, or do I need an adjustable wrench?",
], [
    "An adjustable wrench covering roughly 2 to 15 Nm handles almost every bolt on a bike, including stems, seatposts and brake calipers. Higher values such as cassette lockrings need a larger wrench, but those are less critical.",
    "A fixed 5 Nm tool covers most stem and seatpost bolts and is very easy to use. If you plan to do more of your own work, an adjustable wrench from about 2 to 15 Nm is more versatile.",
])
follow("pump_gauge", [
    "Is the gauge on a floor pump accurate enough?",
    "Do I need a separate pressure gauge, or is the one on my pump good enough for tubeless tires?",
], [
    "Floor pump gauges are usually within a few psi, which is fine for most riding. If you run low pressures on gravel or mountain bike tires, a separate digital gauge gives more consistent readings.",
    "For road pressures the pump gauge is fine. At low pressures, small errors matter more, so a digital gauge is worth it for tubeless gravel or mountain bike setups.",
])
follow("valve_length_follow", [
    "How long should the valves be for my 40 mm deep rims?",
    "Do deeper rims need longer valves than the ones that came with my old tubes?",
], [
    "Pick valves at least 15 mm longer than the rim depth, so 60 mm valves for 40 to 45 mm rims. That leaves enough length above the rim for the pump head to grip.",
    "Yes, choose a valve length about 15 to 20 mm more than the rim depth. For a 40 mm rim, a 60 mm valve is the right choice.",
])
follow("hanger_check", [
    "How can I tell whether the hanger is bent?",
    "The bike fell over in the garage yesterday. What does a bent derailleur hanger actually look like?",
], [
    "Look at the derailleur from behind: the two pulleys should sit in a straight vertical line under the cog. If the derailleur leans towards the wheel, the hanger is likely bent, and an alignment tool can straighten it.",
    "From behind the bike, the derailleur cage should hang parallel to the cogs. Even a slight inward lean causes poor shifting, and a replacement hanger is cheap if straightening does not work.",
])
follow("battery_life", [
    "How long does the battery last on the highest setting?",
    "Will the light last a full winter commute in the cold?",
], [
    "At full power the Brightline lasts about 90 minutes, and around 6 hours on the 400-lumen setting. Cold weather reduces that a little, so charge it every couple of days in winter.",
    "On the mid setting it runs for several hours, which is plenty for a daily commute. Lithium batteries lose some capacity in the cold, so keep the light indoors when you are not riding.",
])
follow("rear_light", [
    "Which rear light would go well with it?",
    "Do I need a rear light as well?",
], [
    "The Brightline Tailbeam is a good match, with a bright daytime flash mode and about 10 hours of battery life in the steady mode. Mount it on the seatpost where bags and coats will not cover it.",
    "Yes, a rear light matters just as much for being seen. A rechargeable one with a daytime flash mode is a good choice, and the Brightline Tailbeam fits most seatposts.",
])
follow("helmet_replace", [
    "How often should a helmet be replaced?",
    "My old helmet took a knock last year. Should I still use it?",
], [
    "Replace a helmet after any crash where it hit the ground, even if it looks fine, because the foam only protects once. Otherwise, most makers suggest replacing it every five years or so.",
    "After an impact, the foam may be compressed inside without visible damage, so it is best to replace it. Helmets are designed to absorb one significant impact.",
])
follow("chain_wear_follow", [
    "Does that mean I should check chain wear more often?",
    "How often should I measure chain wear then?",
], [
    "Yes, measuring every few hundred kilometres takes seconds with a checker and catches wear before it damages the cassette. Replace the chain once it reaches 0.5 percent on 11 and 12-speed drivetrains.",
    "A quick check every month or so is a good habit. Chains wear faster in wet, gritty conditions, so check more often in winter.",
])
follow("degreaser", [
    "Should I degrease the chain before lubing it?",
    "Is it bad to add lube on top of a dirty chain?",
], [
    "A full degrease every few weeks helps, but before each lube a wipe with a clean rag is usually enough. Adding lube to a gritty chain turns the dirt into a grinding paste.",
    "Yes, it speeds up wear, because the new lube carries grit into the rollers. Wipe the chain down first, and degrease it fully when it looks black and sticky.",
])
follow("cleat_position", [
    "Where should I position the cleats on my shoes?",
    "How do I set up cleats so my knees do not hurt?",
], [
    "Start with the cleat under the ball of your foot and pointing straight ahead, then adjust the angle to match how your feet naturally point. Small changes make a big difference, so move them a millimetre or a degree at a time.",
    "Place the cleat so the ball of your foot sits over the pedal axle, and let your heels follow their natural angle. If your knees ache, a professional bike fit is often worth the money.",
])
follow("pedal_install", [
    "Is there a trick to installing pedals?",
    "Which way do pedals unscrew?",
], [
    "The left pedal has a reverse thread, so both pedals tighten by turning towards the front of the bike. Grease the threads first and use a 15 mm pedal spanner or a hex key from the back of the axle.",
    "Both pedals loosen by turning towards the rear of the bike, because the left pedal is reverse threaded. A little grease on the threads prevents them from seizing.",
])
follow("store_hours", [
    "What are the opening hours of the Riverside store?",
    "Is the Riverside workshop open on weekends? I can only drop the bike off on a Saturday.",
], [
    "The Riverside store is open Tuesday to Saturday from 9 am to 6 pm, and until 8 pm on Thursdays. The workshop takes its last drop-offs an hour before closing.",
    "We are open on Saturdays from 9 am to 6 pm but closed on Sundays and Mondays. Thursday is our late day, with the doors open until 8 pm.",
])
follow("bring_own_parts", [
    "Can I bring my own parts for the workshop to fit?",
    "Will you fit parts that I bought somewhere else?",
], [
    "Yes, we fit customer-supplied parts at the normal labour rate. The part itself stays covered by the seller's warranty rather than ours, though our workmanship is still guaranteed.",
    "Happy to. The standard labour prices apply, and we check compatibility before starting, so you do not pay for a job that does not work out.",
])
follow("someone_else_collects", [
    "Can someone else pick up the order for me? I will be at work all day.",
    "My partner will collect the order. What do they need to bring?",
], [
    "Yes, just forward the ready-for-pickup email to them. They need to show the order number and give your name at the counter.",
    "They only need the order number from the pickup email and your name. No ID is required for standard orders.",
])
follow("price_match_marketplace", [
    "Does the price match apply to marketplace sellers too?",
    "What about prices from online marketplaces?",
], [
    "We only match authorised retailers selling the item new and in stock. Marketplace listings from private or unauthorised sellers are not included, because there is no way to verify the product or the warranty.",
    "Marketplace sellers are excluded unless the listing is from an authorised retailer's official store. Send the link and we will check it for you.",
])
follow("gift_card_combo", [
    "Can I combine a gift card with another payment method?",
    "If my gift card does not cover everything, how do I pay the rest?",
], [
    "Yes, apply the gift card first at checkout and pay the remaining amount with a card, PayPal, Apple Pay or Google Pay. Any leftover balance stays on the gift card.",
    "Enter the gift card at checkout, and the page then asks you to pay the remaining balance with any other payment method.",
])
follow("points_on_return", [
    "What happens to my points if I return something?",
    "Do I lose reward points when I send an item back?",
], [
    "The points earned on the returned item are removed when the refund is processed. Points from the rest of the order stay in your account.",
    "Yes, points for returned items are deducted with the refund, while the others remain. Vouchers you have already used are not affected.",
])
follow("bulk_order", [
    "Could we place one large order for the whole club?",
    "Is there a better rate for a bulk order of 20 helmets?",
], [
    "Yes, for orders of ten or more identical items, our team can offer a quote with a better rate than the club discount. Reply with the items and quantities, and we will send a quote within two business days.",
    "For bulk orders like that, we prepare a custom quote, usually better than the standard club discount. Let us know the sizes and quantities and we will check stock at the same time.",
])
follow("notify_me", [
    "Can you let me know when it is back?",
    "Will I get an email when it is in stock?",
], [
    "Yes, use the Notify me button on the product page and we will email you as soon as it is available. If you order now instead, you keep your place in the queue and are charged only when it ships.",
    "Of course. Press Notify me on the product page and you will get one email when the stock arrives, with no further newsletters.",
])
follow("alternative_part", [
    "Is there an alternative you could suggest that is in stock?",
    "What would you recommend instead while it is sold out?",
], [
    "Tell us the rest of your drivetrain, including the shifter and cassette, and we will suggest a compatible model we have in stock. Most in-stock items ship the same day.",
    "Share the bike model and how you ride, and we will recommend an in-stock part that fits. We double check compatibility before you order.",
])
follow("guest_points", [
    "Will I lose my reward points if I make a new account?",
    "Do my points carry over if the account has to be recreated?",
], [
    "No, points are linked to your customer record, and we can merge them into the new account. Reply once it is set up and we will move the balance over.",
    "We can transfer the points manually. Let us know the old and new account names and we will move them within one business day.",
])
follow("delete_account", [
    "How do I delete my account completely?",
    "Can you remove all my data from your system?",
], [
    "You can request deletion under Privacy in your account settings, or reply here and we will start it for you. We keep order records only as long as tax law requires, and everything else is removed within 30 days.",
    "Yes, we can delete the account and personal data. Order records required for accounting are kept for the legal period, but marketing data and your profile are removed within 30 days.",
])
follow("business_account", [
    "Do you offer business accounts for a small bike courier company?",
    "Is there trade pricing for businesses?",
], [
    "Yes, we have business accounts with monthly invoicing and volume pricing on common wear parts. Reply with your company details and roughly how much you order each month, and our trade team will get in touch.",
    "We offer trade accounts for repair shops and courier companies, with invoicing and discounts on regular orders. Share a few details about your business and we will send the application form.",
])
follow("rack_fit", [
    "Will the Northwind Commuter rear rack fit my bike?",
    "Does the rear rack need special mounts on the frame?",
], [
    "It fits most bikes with rack eyelets on the dropouts and seatstays, on wheels from 26 to 29 inches. If your frame has no eyelets, a set of clamp adapters, sold separately, usually solves it.",
    "Frame eyelets make installation easiest, but the included adapters also work with many frames without them. Check that your brakes leave room for the rack struts, especially with disc brakes.",
])

# --- last turns that fit after anything -------------------------------------------------------
CLOSERS = [
    ("Great, that clears it up. Thanks for the quick help today.",
     "You're welcome! Enjoy your rides, and get in touch any time if something else comes up."),
    ("Perfect, I will try that this evening and report back if it still misbehaves.",
     "Sounds good. If anything still feels off afterwards, send us a message and we will take it from there."),
    ("Thanks, that was a lot more helpful than I expected from a support chat.",
     "Glad it helped! Have a great ride this weekend."),
    ("Okay, I think I have everything I need now, thank you.",
     "Great to hear. Happy riding, and thanks for shopping with Northwind Cycles."),
    ("Thank you for explaining it properly instead of just sending a link.",
     "Any time. Enjoy the new setup, and let us know how it goes."),
    ("Brilliant, that saves me a trip to the shop this week.",
     "Happy to help. If you do need the workshop later, booking online is the quickest way."),
    ("That makes sense now. I appreciate the detailed answer.",
     "You're very welcome. Have fun out there and stay safe on the road."),
    ("Good to know, I will keep that in mind for next time.",
     "Perfect. We are here whenever you need us, so just send a message."),
]

# Closers that only make sense after mechanical advice ("try that this evening", "the repair").
TECH_CLOSERS = {1, 4, 5}

# Which answers fit which phrasings: {key: {answer index: [question indices]}}. An answer not
# listed here fits every phrasing of its question.
ONLY = {
    "tire_width": {0: [0]},
    "seatpost": {1: [1]},
    "bar_clamp": {0: [0, 2], 1: [1]},
    "mix_shifter": {0: [0, 1]},
    "tubeless": {1: [1]},
    "brake_fluid": {0: [0], 1: [1], 2: [2]},
    "torque": {0: [0, 2], 1: [1]},
    "tire_pressure": {0: [0], 1: [1], 2: [2]},
    "valve_type": {1: [1]},
    "indexing": {1: [1]},
    "lights": {1: [1]},
    "helmet_size": {1: [1]},
    "winter_tires": {1: [1]},
    "chain_lube": {0: [0], 1: [1], 2: [2]},
    "pedals_cleats": {0: [0], 1: [1], 2: [2]},
    "wheel_sizes": {0: [0], 1: [1], 2: [2]},
    "ebike_parts": {0: [0], 1: [1], 2: [2]},
    "workshop_booking": {1: [1]},
    "click_collect": {0: [0, 1]},
    "payment_methods": {1: [1]},
    "double_charge": {0: [0], 1: [1], 2: [2]},
    "discount_code": {0: [0, 1], 1: [2]},
    "gift_card": {0: [0, 1], 1: [2]},
    "rewards": {0: [0, 2], 1: [1]},
    "backorder": {1: [1]},
    "password_reset": {0: [0, 1], 1: [0, 2]},
    "guest_order": {0: [0, 1]},
    "marketing_emails": {0: [0, 1]},
    "invoice": {1: [2]},
    "home_tools": {0: [0, 1], 1: [2]},
    "gravel_tire_pick": {1: [1]},
    "damaged_item": {1: [1]},
    # follow-ups
    "chain_length": {1: [1]},
    "chain_wear_follow": {0: [0]},
    "points_on_return": {1: [1]},
    "pending_charge": {1: [1]},
    "someone_else_collects": {0: [0]},
    "gift_card_combo": {0: [0]},
    "warranty_without_receipt": {0: [0]},
    "quick_link": {0: [0], 1: [1]},
    "bed_in": {1: [1]},
    "rotor_mount": {0: [0], 1: [1]},
    "carbon_paste": {1: [0]},
    "bar_width": {1: [1]},
    "sealant_topup": {1: [1]},
    "rear_light": {1: [1]},
    "helmet_replace": {1: [1]},
}


def _allowed(item: dict, ui: int) -> list[int]:
    only = ONLY.get(item["key"], {})
    return [ri for ri in range(len(item["replies"])) if ri not in only or ui in only[ri]]


def _pick(rng: random.Random, item: dict) -> tuple[str, str]:
    """One phrasing of the question and an answer that fits it."""
    ui = rng.randrange(len(item["users"]))
    return item["users"][ui], item["replies"][rng.choice(_allowed(item, ui))]


assert not set(UNITS) & set(FOLLOWS)
assert all(_allowed(it, ui) for it in [*UNITS.values(), *FOLLOWS.values()] for ui in range(len(it["users"])))
assert all(k in FOLLOWS for u in UNITS.values() for k in u["follows"])


# --------------------------------------------------------------------------------------------
# German and Spanish conversations (for the language-mix sample); hand-written, not translated
# from the English units word for word.
# --------------------------------------------------------------------------------------------

GERMAN = [
    [
        ("Hallo, ich habe vor acht Tagen eine Kette und eine Kassette bei Ihnen bestellt, aber das Paket ist immer noch nicht angekommen. Die Sendungsverfolgung zeigt seit vier Tagen keinen neuen Status mehr. Können Sie bitte nachsehen, was da los ist?",
         "Vielen Dank für Ihre Nachricht, und entschuldigen Sie die Verzögerung. Sendungen nach Deutschland sind normalerweise sechs bis zehn Werktage unterwegs, und beim Zoll bleibt ein Paket manchmal einige Tage ohne neuen Scan liegen. Wenn sich bis Freitag nichts tut, beauftragen wir den Versanddienst mit einer Nachforschung und schicken Ihnen kostenlos Ersatz."),
        ("Okay, das klingt fair. Muss ich bei der Zustellung noch Einfuhrumsatzsteuer oder Zoll bezahlen, oder ist das schon erledigt?",
         "Das ist bereits erledigt. Bei Bestellungen in die EU berechnen wir Zoll und Mehrwertsteuer schon an der Kasse, daher fallen bei der Zustellung keine weiteren Kosten an."),
    ],
    [
        ("Ich fahre viel in den Alpen, und meine organischen Bremsbeläge sind nach wenigen langen Abfahrten schon verschlissen. Welche Beläge würden Sie mir empfehlen? Ich habe hydraulische Scheibenbremsen mit 180-mm-Scheiben.",
         "Für lange Abfahrten empfehlen wir gesinterte Bremsbeläge, zum Beispiel die Halden Sinterbeläge. Sie halten deutlich länger, vertragen hohe Temperaturen besser und bremsen auch bei Nässe zuverlässig. Prüfen Sie vorher nur, ob Ihre Bremsscheiben für Sinterbeläge freigegeben sind, und fahren Sie die neuen Beläge mit zehn bis zwanzig kräftigen Bremsungen ein."),
    ],
    [
        ("Guten Tag, ich habe einen Reifen in der falschen Größe bestellt. Er ist noch originalverpackt und wurde nie montiert. Kann ich ihn zurückschicken, und wie lange habe ich dafür Zeit?",
         "Ja, unbenutzte Artikel in der Originalverpackung können Sie innerhalb von 30 Tagen nach der Lieferung zurückgeben. Starten Sie die Rücksendung einfach auf der Bestellseite in Ihrem Kundenkonto. Bei Rücksendungen aus dem Ausland tragen Sie die Versandkosten selbst, und wir erstatten den Kaufpreis innerhalb von fünf Werktagen nach Eingang."),
        ("Kann ich stattdessen auch direkt die richtige Größe bekommen? Ich brauche den Reifen in 700x40 statt in 700x35.",
         "Natürlich, wählen Sie bei der Rücksendung einfach Umtausch und dann den Reifen in 700x40. Den neuen Reifen schicken wir los, sobald Ihr Paket beim Versanddienst gescannt wurde, damit Sie nicht lange warten müssen."),
    ],
    [
        ("Ich möchte meine Gravel-Laufräder auf tubeless umrüsten, die Felgen sind laut Hersteller dafür geeignet. Was brauche ich außer Dichtmilch noch? Und wie viel Milch gehört in einen Reifen?",
         "Sie brauchen tubelessfähige Reifen, ein passendes Felgenband und zwei Tubeless-Ventile. Für einen Gravel-Reifen reichen etwa 60 Milliliter Dichtmilch, bei einem breiten Mountainbike-Reifen eher 100 Milliliter. Eine Standpumpe mit Druckspeicher hilft dabei, dass der Reifen schon beim ersten Versuch sauber in die Felge springt."),
        ("Danke, das hilft mir sehr. Wie oft muss ich die Dichtmilch eigentlich nachfüllen?",
         "Je nach Temperatur alle drei bis sechs Monate, im Sommer eher früher. Wenn Sie beim Schütteln des Laufrads keine Flüssigkeit mehr hören, ist es Zeit für eine neue Füllung."),
    ],
    [
        ("Ich überlege, den Tallwood Vista MIPS zu kaufen, bin mir aber bei der Größe unsicher. Mein Kopfumfang liegt bei ungefähr 58 Zentimetern. Passt mir eher M oder L?",
         "Bei 58 Zentimetern passt Größe M, die für einen Kopfumfang von 55 bis 59 Zentimetern ausgelegt ist. Über das Drehrad am Hinterkopf lässt sich der Helm noch genau einstellen. Falls er doch nicht richtig sitzt, ist der Größenumtausch bei Helmen innerhalb von 30 Tagen kostenlos."),
    ],
    [
        ("Meine Schaltung springt in letzter Zeit immer wieder, vor allem auf den mittleren Ritzeln. Das Rad hat ungefähr 5000 Kilometer gelaufen. Könnte die Kette verschlissen sein?",
         "Das ist gut möglich. Mit einer Kettenverschleißlehre können Sie das in wenigen Sekunden prüfen, und bei 11- und 12-fach-Ketten sollten Sie ab 0,5 Prozent Längung wechseln. Wartet man zu lange, nutzt sich auch die Kassette ab, und dann springt selbst eine neue Kette."),
        ("Die Lehre zeigt noch keinen Verschleiß an. Woran kann es dann liegen?",
         "Dann lohnt sich ein Blick auf die Zugspannung, die Sie am Einstellrädchen des Schaltwerks in Vierteldrehungen anpassen können. Hilft das nicht, ist oft das Schaltauge leicht verbogen, was eine Werkstatt schnell richten kann."),
    ],
]

SPANISH = [
    [
        ("Hola, hice un pedido hace diez días y todavía no ha llegado. El seguimiento dice que está en tránsito desde el lunes. ¿Me pueden decir qué está pasando?",
         "Gracias por escribirnos y disculpe la espera. Los envíos internacionales suelen tardar entre seis y diez días hábiles, y a veces un paquete pasa unos días en la aduana sin nuevos escaneos. Si el seguimiento no cambia antes del viernes, abriremos una investigación con la empresa de transporte y le enviaremos un reemplazo sin coste."),
        ("Perfecto, muchas gracias. ¿Tendré que pagar algún impuesto cuando me lo entreguen?",
         "No, en los pedidos a la Unión Europea cobramos el IVA y los aranceles en el momento de la compra. Por eso no tendrá que pagar nada más al recibir el paquete."),
    ],
    [
        ("Quiero montar un casete de 12 velocidades con piñón de 10 dientes en mi bicicleta de montaña. Mi buje tiene un núcleo estándar tipo HG. ¿Es compatible?",
         "En un núcleo HG estándar no se puede montar directamente. Los casetes con piñón de 10 dientes necesitan otro tipo de núcleo, como XD o Micro Spline, según el modelo. Muchos bujes se pueden adaptar cambiando solo el núcleo, así que si nos indica el modelo de su buje, comprobamos si existe esa opción."),
    ],
    [
        ("Compré el casco Tallwood Vista en talla S y me queda demasiado apretado. Todavía no lo he usado y conservo la caja. ¿Puedo cambiarlo por una talla M?",
         "Claro que sí. Los cambios de talla en cascos son gratuitos durante los 30 días posteriores a la entrega. Inicie la devolución desde la página del pedido, elija la opción de cambio y le enviaremos la talla M en cuanto la empresa de transporte escanee su paquete."),
    ],
    [
        ("Acabo de montar unas cubiertas de gravel de 40 milímetros y no sé qué presión usar. Peso unos 70 kilos y ruedo sobre todo por caminos de tierra. ¿Qué me recomiendan?",
         "Para cubiertas de 40 milímetros y su peso, un buen punto de partida está entre 30 y 35 psi. Empiece por la mitad de ese rango y baje de 2 en 2 psi hasta que la bicicleta resulte cómoda sin que la llanta golpee contra las piedras. Si usa el sistema tubeless, puede bajar la presión un poco más."),
        ("Muy útil, gracias. Si una parte de la ruta es de asfalto, ¿debería inflarlas más?",
         "Un poco más de presión ayuda en asfalto, pero no hace falta cambiarla en cada salida. Si la mayor parte del recorrido es de tierra, mantenga la presión baja y acepte algo más de resistencia en los tramos asfaltados."),
    ],
    [
        ("Me interesa el juego de ruedas Marrow Bay de aluminio, pero prefiero no pagarlo todo de una vez. ¿Ofrecen pago a plazos y cómo funciona?",
         "Sí, los pedidos de entre 100 y 1.500 dólares se pueden dividir en cuatro pagos sin intereses. Elija esa opción al finalizar la compra: el primer pago se cobra cuando el pedido sale del almacén y los demás cada dos semanas. La aprobación solo tarda unos segundos."),
    ],
    [
        ("Voy al trabajo en bicicleta todos los días y en invierno vuelvo de noche por un camino sin farolas. ¿Qué luz delantera me recomiendan? No quiero deslumbrar a los demás ciclistas.",
         "Para un camino sin iluminación le recomendamos al menos 800 lúmenes, por ejemplo la luz delantera Brightline de 1000 lúmenes. Tiene modos más suaves para la ciudad, así que puede reservar la potencia máxima para los tramos oscuros. Oriéntela ligeramente hacia abajo para no deslumbrar a quienes vienen de frente."),
        ("Suena bien. ¿Cuánto dura la batería si la uso en el modo máximo?",
         "En el modo máximo dura alrededor de 90 minutos, y unas seis horas en el modo de 400 lúmenes. Con el frío la autonomía baja un poco, así que en invierno conviene cargarla cada dos días."),
    ],
]


# --------------------------------------------------------------------------------------------
# Tool calling: function definitions, simulated back-end results, scenarios
# --------------------------------------------------------------------------------------------

STORES = ["Riverside", "Harbor Street"]
CATEGORIES = ["drivetrain", "brakes", "tires", "wheels", "contact", "accessories"]

FUNCTIONS = {
    "get_order_status": {
        "name": "get_order_status",
        "description": "Look up the current status, carrier and delivery estimate of a customer order.",
        "parameters": {
            "type": "object",
            "properties": {
                "order_id": {"type": "string", "description": "The order number, for example NW-12345."},
            },
            "required": ["order_id"],
            "additionalProperties": False,
        },
    },
    "search_parts": {
        "name": "search_parts",
        "description": "Search the Northwind Cycles catalogue for parts and accessories.",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "Free-text search such as a part name, size or standard."},
                "category": {"type": "string", "enum": CATEGORIES, "description": "Restrict results to one category."},
                "max_price": {"type": "number", "description": "Highest price in US dollars."},
                "in_stock_only": {"type": "boolean", "description": "Only return items that can ship today."},
            },
            "required": ["query"],
            "additionalProperties": False,
        },
    },
    "create_return_label": {
        "name": "create_return_label",
        "description": "Create a prepaid return label for one item of an order and return the refund estimate.",
        "parameters": {
            "type": "object",
            "properties": {
                "order_id": {"type": "string", "description": "The order number the item was bought in."},
                "sku": {"type": "string", "description": "The SKU of the item being returned."},
                "reason": {"type": "string", "enum": ["unwanted", "wrong_size", "damaged", "defective", "wrong_item"]},
            },
            "required": ["order_id", "sku", "reason"],
            "additionalProperties": False,
        },
    },
    "check_store_stock": {
        "name": "check_store_stock",
        "description": "Check how many units of a SKU are on the shelf in one of the physical stores.",
        "parameters": {
            "type": "object",
            "properties": {
                "sku": {"type": "string", "description": "The product SKU."},
                "store": {"type": "string", "enum": STORES},
            },
            "required": ["sku", "store"],
            "additionalProperties": False,
        },
    },
    "get_shipping_quote": {
        "name": "get_shipping_quote",
        "description": "Quote shipping prices and transit times for a parcel to a destination.",
        "parameters": {
            "type": "object",
            "properties": {
                "country": {"type": "string", "description": "ISO 3166-1 alpha-2 country code, such as US or DE."},
                "postal_code": {"type": "string", "description": "Destination postal code."},
                "weight_kg": {"type": "number", "description": "Parcel weight in kilograms."},
                "speed": {"type": "string", "enum": ["standard", "express"]},
            },
            "required": ["country", "postal_code", "weight_kg"],
            "additionalProperties": False,
        },
    },
}
FUNCTION_ORDER = list(FUNCTIONS)

# (country code, postal code, how a customer names the place, base price, per kg, standard days, express days)
DESTINATIONS = [
    ("US", "97205", "Portland, Oregon", 6.95, 0.0, "2 to 4", "1"),
    ("US", "80202", "Denver", 6.95, 0.0, "2 to 4", "1"),
    ("CA", "V6B 1A1", "Vancouver", 14.00, 4.00, "6 to 9", "3"),
    ("GB", "EH1 1YZ", "Edinburgh", 18.00, 5.00, "6 to 10", "3 to 4"),
    ("DE", "10115", "Berlin", 17.00, 5.00, "6 to 10", "3 to 4"),
    ("NL", "3011 AB", "Rotterdam", 17.00, 5.00, "6 to 10", "3 to 4"),
    ("AU", "3000", "Melbourne", 24.00, 7.00, "8 to 12", "4 to 5"),
    ("IE", "H91 E2K3", "Galway", 17.50, 5.00, "6 to 10", "3 to 4"),
]

SEARCH_CASES = [
    {"asks": ["I need a 12-speed chain that costs less than $50. What do you have?",
              "Could you find me a 12-speed chain under fifty dollars that ships today?"],
     "args": {"query": "12-speed chain", "category": "drivetrain", "max_price": 50},
     "results": [("HX-12", "Halden HX-12 chain", 42.00, True), ("CV-C12", "Corvid C12 chain", 47.50, True)],
     "answers": ["There are two 12-speed chains under $50: the Halden HX-12 at $42.00 and the Corvid C12 at $47.50, and both are in stock. The Halden is the better value, while the Corvid has a slightly tougher coating for wet riding.",
                 "Two options fit your budget. The Halden HX-12 costs $42.00 and the Corvid C12 costs $47.50, and both can ship today."]},
    {"asks": ["Do you have sintered disc brake pads for muddy riding, ideally under $25?",
              "Show me sintered brake pads that cost no more than 25 dollars."],
     "args": {"query": "sintered disc brake pads", "category": "brakes", "max_price": 25},
     "results": [("HD-PS", "Halden sintered brake pads", 21.00, True), ("ST-PS4", "Stratus S4 sintered pads", 24.50, False)],
     "answers": ["The Halden sintered brake pads are $21.00 and in stock, so they could ship today. The Stratus S4 sintered pads at $24.50 are temporarily out of stock, but they are only needed if you run Stratus S4 calipers.",
                 "For mud, the Halden sintered pads at $21.00 are the pick, and they are in stock. There is also a Stratus version for $24.50, which is currently sold out."]},
    {"asks": ["I am looking for a gravel tire around 40 mm wide. What is available right now?",
              "Which 40 mm gravel tires do you have in stock at the moment?"],
     "args": {"query": "gravel tire 40 mm", "category": "tires", "in_stock_only": True},
     "results": [("BL-GP40", "Brightline Gravelpath 700x40 tire", 52.00, True), ("TW-DR40", "Tallwood Dustrunner 700x40 tire", 58.00, True)],
     "answers": ["Two 40 mm gravel tires are in stock: the Brightline Gravelpath at $52.00 and the Tallwood Dustrunner at $58.00. The Gravelpath rolls faster on hardpack, and the Dustrunner has a more open tread for loose or muddy surfaces.",
                 "Right now you can choose between the Brightline Gravelpath for $52.00 and the Tallwood Dustrunner for $58.00, both 700x40 and both ready to ship."]},
    {"asks": ["What bright front lights do you sell for less than $100?",
              "I need a front light for unlit roads and my budget is under $100."],
     "args": {"query": "front light", "category": "accessories", "max_price": 100},
     "results": [("BL-L1000", "Brightline 1000-lumen front light", 79.00, True), ("BL-L600", "Brightline 600-lumen front light", 54.00, True)],
     "answers": ["Within your budget there is the Brightline 1000-lumen light at $79.00 and the 600-lumen version at $54.00, both in stock. For unlit roads the 1000-lumen model is the better choice, since it has enough power for dark lanes and dims down for town.",
                 "You could go for the Brightline 600-lumen light at $54.00 or the 1000-lumen model at $79.00. Both are in stock, and the brighter one is worth it if much of your route has no street lights."]},
    {"asks": ["Do you stock a 27.2 mm seatpost under $130?",
              "Find me a seatpost in 27.2 mm that costs less than 130 dollars."],
     "args": {"query": "seatpost 27.2 mm", "category": "contact", "max_price": 130},
     "results": [("MB-SP272", "Marrow Bay carbon seatpost", 119.00, True), ("NW-SP272", "Northwind alloy seatpost", 39.00, True)],
     "answers": ["There are two 27.2 mm posts under $130: the Marrow Bay carbon post at $119.00 and the Northwind alloy post at $39.00, both in stock. The carbon post damps road buzz noticeably better, while the alloy one is the sturdy budget option.",
                 "Both the Marrow Bay carbon seatpost at $119.00 and the Northwind alloy seatpost at $39.00 come in 27.2 mm and are available today."]},
    {"asks": ["I want a floor pump with a gauge that works with Presta valves. What can you offer?",
              "Which floor pumps do you carry for Presta valves?"],
     "args": {"query": "floor pump presta gauge", "category": "accessories"},
     "results": [("NW-PUMP", "Northwind Track floor pump", 45.00, True), ("CV-PUMP2", "Corvid Tubeless Charger pump", 89.00, True)],
     "answers": ["The Northwind Track floor pump at $45.00 has a large gauge and a head that fits both Presta and Schrader valves. If you also plan to set up tubeless tires, the Corvid Tubeless Charger at $89.00 adds an air chamber for seating beads.",
                 "For everyday inflation the Northwind Track at $45.00 is ideal, and for tubeless setups the Corvid Tubeless Charger at $89.00 is the better tool. Both work with Presta valves and both are in stock."]},
    {"asks": ["Is there a 180 mm disc rotor in your catalogue for a six-bolt hub?",
              "Can you look for six-bolt rotors in 180 mm?"],
     "args": {"query": "180 mm rotor six-bolt", "category": "brakes"},
     "results": [("CV-R180", "Corvid 180 mm rotor", 46.00, True), ("ST-R180", "Stratus 180 mm rotor", 52.00, False)],
     "answers": ["The Corvid 180 mm rotor at $46.00 is six-bolt and in stock. The Stratus 180 mm rotor at $52.00 is out of stock at the moment, so the Corvid is the quickest option; remember that moving up in rotor size needs a matching caliper adapter.",
                 "Yes, the Corvid 180 mm six-bolt rotor costs $46.00 and can ship today. A Stratus version exists for $52.00, but it is currently sold out."]},
    {"asks": ["What alloy wheelsets do you have for under $500?",
              "I need a new pair of 700c alloy wheels for less than 500 dollars."],
     "args": {"query": "700c alloy wheelset", "category": "wheels", "max_price": 500},
     "results": [("MB-WS700", "Marrow Bay alloy wheelset", 420.00, True), ("NW-WS700", "Northwind Endurance wheelset", 340.00, True)],
     "answers": ["Two alloy wheelsets fit your budget: the Northwind Endurance at $340.00 and the Marrow Bay at $420.00, both in stock. The Marrow Bay set is lighter and tubeless-ready out of the box, which makes it the better upgrade.",
                 "You can choose the Northwind Endurance wheelset for $340.00 or the Marrow Bay alloy wheelset for $420.00. Both are in stock, and the Marrow Bay is lighter and comes taped for tubeless."]},
]


def _call_id(rng: random.Random) -> str:
    return "call_" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(12))


def _product(rng: random.Random, categories=None):
    pool = [p for p in PRODUCTS if categories is None or p[4] in categories]
    return rng.choice(pool)


def _date(rng: random.Random) -> tuple[str, str]:
    month = rng.choice(MONTHS)
    day = rng.randint(2, 24)
    return f"{month} {day}", f"{month} {day + rng.randint(2, 4)}"


class ToolConv:
    """Builds one OpenAI chat example with tool calls."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.messages: list[dict] = []
        self.used: list[str] = []
        self.parallel = False

    def user(self, text: str) -> None:
        self.messages.append({"role": "user", "content": text})

    def say(self, text: str) -> None:
        self.messages.append({"role": "assistant", "content": text})

    def call(self, *calls: tuple[str, dict, dict]) -> None:
        """calls: (function name, arguments, result); one assistant message, then one tool message each."""
        msg: dict = {"role": "assistant"}
        if self.rng.random() < 0.5:
            msg["content"] = None
        items = []
        results = []
        for name, args, result in calls:
            cid = _call_id(self.rng)
            items.append({"id": cid, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}})
            results.append({"role": "tool", "tool_call_id": cid, "content": json.dumps(result)})
            if name not in self.used:
                self.used.append(name)
        msg["tool_calls"] = items
        self.messages.append(msg)
        self.messages.extend(results)
        if len(calls) > 1:
            self.parallel = True


def _order_result(rng, oid, product, status=None):
    status = status or rng.choice(["shipped", "shipped", "processing", "delivered", "backordered"])
    d1, d2 = _date(rng)
    res = {"order_id": oid, "status": status, "items": [product[0]]}
    if status == "shipped":
        res.update({"carrier": rng.choice(["Parcelway", "SwiftPost"]), "shipped_on": d1, "estimated_delivery": d2})
    elif status == "processing":
        res.update({"expected_dispatch": d1})
    elif status == "delivered":
        res.update({"delivered_on": d1, "left_at": rng.choice(["front door", "parcel locker", "building reception"])})
    else:
        res.update({"restock_expected": d2})
    return res


def _order_sentence(rng, res) -> str:
    oid, item, st = res["order_id"], res["items"][0], res["status"]
    if st == "shipped":
        return rng.choice([
            f"Order {oid} with the {item} shipped on {res['shipped_on']} with {res['carrier']} and should arrive on {res['estimated_delivery']}.",
            f"Your {item} left our warehouse on {res['shipped_on']}, and {res['carrier']} expects to deliver order {oid} on {res['estimated_delivery']}.",
        ])
    if st == "processing":
        return rng.choice([
            f"Order {oid} with the {item} is still being packed and is due to leave the warehouse on {res['expected_dispatch']}.",
            f"The {item} in order {oid} has not shipped yet; dispatch is planned for {res['expected_dispatch']}.",
        ])
    if st == "delivered":
        return rng.choice([
            f"Order {oid} was delivered on {res['delivered_on']} and left at the {res['left_at']}.",
            f"According to the carrier, order {oid} with the {item} arrived on {res['delivered_on']} and was left at the {res['left_at']}.",
        ])
    return rng.choice([
        f"Order {oid} is waiting for the {item}, which is backordered until about {res['restock_expected']}.",
        f"The {item} in order {oid} is on backorder, and new stock is expected around {res['restock_expected']}.",
    ])


def _order_advice(rng, res) -> str:
    st = res["status"]
    return rng.choice({
        "shipped": ["The tracking link in your shipping email shows every scan along the way.",
                    "You will get a text from the carrier on the morning of delivery."],
        "processing": ["You will receive the tracking link by email as soon as it is dispatched.",
                       "If you need it sooner, I can still switch it to express shipping."],
        "delivered": ["If it is not there, let me know and I will open an investigation with the carrier.",
                      "Please check with neighbours or the parcel room first, and tell me if it has not turned up."],
        "backordered": ["Your card will only be charged when it ships, and you can cancel before then at no cost.",
                        "If you would rather not wait, I can suggest an in-stock alternative."],
    }[st])


def tool_order_status(rng: random.Random, tc: ToolConv) -> None:
    product = _product(rng)
    oid = f"NW-{rng.randint(20000, 89999)}"
    if rng.random() < 0.3:
        tc.user(rng.choice(["Can you check on my order for me?", "Hi, I would like an update on a parcel I am waiting for.",
                            "Where is my order? It feels like it is taking ages to get here."]))
        tc.say(rng.choice(["Of course. What is the order number?", "Happy to check. Could you give me the order number?"]))
        tc.user(rng.choice([f"It is {oid}, the one with the {product[0]} in it.",
                            f"The number is {oid}. Thanks for checking on it for me.",
                            f"Sure, it is {oid}. I ordered it about a week ago."]))
    else:
        tc.user(rng.choice([
            f"Where is my order {oid}? I ordered the {product[0]}.",
            f"Has order {oid} shipped yet?",
            f"Could you tell me when {oid} will arrive? I need the part for a ride on {rng.choice(WEEKDAYS)}.",
            f"Any news on order {oid}? The {product[0]} was supposed to be on its way.",
            f"What is the status of {oid}, please?",
        ]))
    res = _order_result(rng, oid, product)
    tc.call(("get_order_status", {"order_id": oid}, res))
    tc.say(_order_sentence(rng, res) + " " + _order_advice(rng, res))


def tool_search(rng: random.Random, tc: ToolConv, case=None) -> None:
    case = case or rng.choice(SEARCH_CASES)
    tc.user(rng.choice(case["asks"]))
    results = [{"sku": s, "name": n, "price": p, "in_stock": st} for s, n, p, st in case["results"]]
    tc.call(("search_parts", dict(case["args"]), {"results": results}))
    tc.say(rng.choice(case["answers"]))


def _return_fee(reason: str) -> float:
    return 6.95 if reason in ("unwanted", "wrong_size") else 0.0


RETURN_FITS = {  # which products a customer would plausibly return for each reason
    "unwanted": None,
    "damaged": None,
    "wrong_size": {"TW-RL29", "BL-GP40", "BL-CS35", "MB-SP272", "TW-VISTA", "HD-BB68", "CV-R180"},
    "defective": {"BL-L1000", "NW-PUMP", "ST-RD12", "ST-S4", "BL-TB"},
}


def tool_return(rng: random.Random, tc: ToolConv, oid=None, product=None, reasons=tuple(RETURN_FITS)) -> None:
    oid = oid or f"NW-{rng.randint(20000, 89999)}"
    fitting = [r for r in reasons if product is None or RETURN_FITS[r] is None or product[1] in RETURN_FITS[r]]
    reason = rng.choice(fitting)
    if product is None:
        skus = RETURN_FITS[reason]
        product = rng.choice([p for p in PRODUCTS if skus is None or p[1] in skus])
    _reason, ask = next(x for x in [
        ("unwanted", f"I would like to return the {product[0]} from order {oid}. I changed my mind and it is unused."),
        ("wrong_size", f"The {product[0]} from {oid} is the wrong size for my bike. Can you make me a return label?"),
        ("damaged", f"The {product[0]} in order {oid} arrived damaged. Please set up a return."),
        ("defective", f"My {product[0]} from order {oid} stopped working after two rides. I want to send it back."),
    ] if x[0] == reason)
    tc.user(ask)
    fee = _return_fee(reason)
    refund = round(product[2] - fee, 2)
    deadline, _ = _date(rng)
    res = {"return_id": f"RMA-{rng.randint(10000, 99999)}", "label_emailed": True, "drop_off_by": deadline,
           "refund_amount": refund, "return_shipping_fee": fee}
    tc.call(("create_return_label", {"order_id": oid, "sku": product[1], "reason": reason}, res))
    fee_text = (f"we will refund ${refund:.2f}, which is the item price minus the ${fee:.2f} label fee" if fee
                else f"we will refund the full ${refund:.2f}, since there is no label fee for this kind of return")
    tc.say(rng.choice([
        f"Your return {res['return_id']} is set up, and the prepaid label has been emailed to you. Please drop the parcel off by {deadline}; once it reaches us, {fee_text}.",
        f"Done. The label for return {res['return_id']} is in your inbox, and the parcel should be handed to the carrier by {deadline}. As for the money, {fee_text}.",
    ]))


def _stock_result(rng, sku, store, qty=None):
    qty = rng.choice([0, 1, 2, 3, 5, 8]) if qty is None else qty
    res = {"sku": sku, "store": store, "quantity": qty}
    if qty:
        res["ready_for_pickup_in_hours"] = 2
    else:
        res["next_delivery"] = _date(rng)[0]
    return res


def _stock_sentence(rng, product, res) -> str:
    if res["quantity"]:
        return rng.choice([
            f"The {res['store']} store has {res['quantity']} of the {product[0]} on the shelf, and a click and collect order would be ready in about two hours.",
            f"Good news: there are {res['quantity']} units of the {product[0]} at {res['store']}, ready for pickup roughly two hours after you order.",
        ])
    return rng.choice([
        f"The {res['store']} store is out of the {product[0]} right now, with the next delivery expected on {res['next_delivery']}.",
        f"There are no units of the {product[0]} at {res['store']} at the moment; more are due on {res['next_delivery']}.",
    ])


def tool_stock(rng: random.Random, tc: ToolConv) -> None:
    product = _product(rng)
    store = rng.choice(STORES)
    tc.user(rng.choice([
        f"Is the {product[0]} in stock at the {store} store? I would like to pick it up today.",
        f"Before I drive over to {store}, can you check whether they have the {product[0]}?",
        f"Does your {store} shop have any {product[0]} left?",
    ]))
    res = _stock_result(rng, product[1], store)
    tc.call(("check_store_stock", {"sku": product[1], "store": store}, res))
    tc.say(_stock_sentence(rng, product, res))


def _quote(dest, weight):
    cc, pc, place, base, per_kg, std_days, exp_days = dest
    std = round(base + per_kg * weight, 2)
    return {"country": cc, "postal_code": pc, "weight_kg": weight,
            "options": [{"speed": "standard", "price": std, "business_days": std_days},
                        {"speed": "express", "price": round(std * 2 + 1.05, 2), "business_days": exp_days}]}


def _quote_sentence(rng, product, place, q) -> str:
    std, exp = q["options"]
    exp_days = exp["business_days"] + (" business day" if exp["business_days"] == "1" else " business days")
    return rng.choice([
        f"Shipping the {product[0]} to {place} costs ${std['price']:.2f} with standard delivery, which takes {std['business_days']} business days, or ${exp['price']:.2f} for express in {exp_days}.",
        f"To {place}, standard shipping for the {product[0]} is ${std['price']:.2f} and takes {std['business_days']} business days, while express costs ${exp['price']:.2f}.",
    ])


def tool_quote(rng: random.Random, tc: ToolConv) -> None:
    product = _product(rng)
    dest = rng.choice(DESTINATIONS)
    tc.user(rng.choice([
        f"How much would it cost to ship the {product[0]} to {dest[2]}, postcode {dest[1]}?",
        f"I live in {dest[2]} ({dest[1]}). What are the shipping options for the {product[0]}?",
        f"Can you give me a shipping quote for the {product[0]} to postcode {dest[1]} in {dest[2]}?",
    ]))
    q = _quote(dest, product[3])
    tc.call(("get_shipping_quote", {"country": dest[0], "postal_code": dest[1], "weight_kg": product[3]}, q))
    extra = ""
    if dest[0] == "US" and product[2] > 75:
        extra = " Because the item costs more than $75, standard shipping within the US is actually free at checkout."
    tc.say(_quote_sentence(rng, product, dest[2], q) + extra)


def tool_parallel_orders(rng: random.Random, tc: ToolConv) -> None:
    o1, o2 = (f"NW-{rng.randint(20000, 89999)}" for _ in range(2))
    p1, p2 = _product(rng), _product(rng)
    tc.user(rng.choice([
        f"I have two orders open, {o1} and {o2}. Can you check both?",
        f"Could you look up {o1} and also {o2}? I am not sure which one has the {p1[0]}.",
        f"What is happening with my orders {o1} and {o2}?",
    ]))
    r1, r2 = _order_result(rng, o1, p1), _order_result(rng, o2, p2)
    tc.call(("get_order_status", {"order_id": o1}, r1), ("get_order_status", {"order_id": o2}, r2))
    tc.say(_order_sentence(rng, r1) + " " + _order_sentence(rng, r2))


def tool_parallel_stores(rng: random.Random, tc: ToolConv) -> None:
    product = _product(rng)
    tc.user(rng.choice([
        f"Which of your stores has the {product[0]} right now?",
        f"Can you check both shops for the {product[0]}? I can get to either one.",
        f"I need the {product[0]} today. Is it at Riverside or Harbor Street?",
    ]))
    q1, q2 = rng.choice([(0, 3), (2, 0), (4, 1), (0, 0), (1, 6)])
    r1 = _stock_result(rng, product[1], STORES[0], q1)
    r2 = _stock_result(rng, product[1], STORES[1], q2)
    tc.call(("check_store_stock", {"sku": product[1], "store": STORES[0]}, r1),
            ("check_store_stock", {"sku": product[1], "store": STORES[1]}, r2))
    tc.say(_stock_sentence(rng, product, r1) + " " + _stock_sentence(rng, product, r2))


def tool_parallel_search_quote(rng: random.Random, tc: ToolConv) -> None:
    case = rng.choice(SEARCH_CASES)
    dest = rng.choice([d for d in DESTINATIONS if d[0] != "US"])
    sku, name, price, in_stock = case["results"][0]
    weight = next((p[3] for p in PRODUCTS if p[1] == sku), 0.5)
    tc.user(rng.choice(case["asks"])[:-1] + f", and what would shipping to {dest[2]} ({dest[1]}) cost?")
    results = [{"sku": s, "name": n, "price": p, "in_stock": st} for s, n, p, st in case["results"]]
    q = _quote(dest, weight)
    tc.call(("search_parts", dict(case["args"]), {"results": results}),
            ("get_shipping_quote", {"country": dest[0], "postal_code": dest[1], "weight_kg": weight}, q))
    std, exp = q["options"]
    tc.say(rng.choice(case["answers"]) + f" Shipping the {name} to {dest[2]} would be ${std['price']:.2f} standard "
           f"({std['business_days']} business days) or ${exp['price']:.2f} express.")


def tool_parallel_order_stock(rng: random.Random, tc: ToolConv) -> None:
    product = _product(rng)
    oid = f"NW-{rng.randint(20000, 89999)}"
    store = rng.choice(STORES)
    tc.user(f"Has my order {oid} with the {product[0]} shipped? If not, I could just buy one at {store} today, so please check that too.")
    r1 = _order_result(rng, oid, product, status=rng.choice(["processing", "backordered", "shipped"]))
    r2 = _stock_result(rng, product[1], store)
    tc.call(("get_order_status", {"order_id": oid}, r1), ("check_store_stock", {"sku": product[1], "store": store}, r2))
    tail = ""
    if r1["status"] != "shipped" and r2["quantity"]:
        tail = " If you pick one up there, I can cancel the online order so you are not charged twice."
    elif r1["status"] != "shipped":
        tail = " Your online order keeps its place in the queue, so it is probably the quickest way to get one."
    tc.say(_order_sentence(rng, r1) + " " + _stock_sentence(rng, product, r2) + tail)


def tool_search_then_stock(rng: random.Random, tc: ToolConv) -> None:
    case = rng.choice([c for c in SEARCH_CASES if all(r[3] for r in c["results"])])
    store = rng.choice(STORES)
    tc.user(rng.choice(case["asks"])[:-1] + f", and can I pick it up at {store}?")
    results = [{"sku": s, "name": n, "price": p, "in_stock": st} for s, n, p, st in case["results"]]
    tc.call(("search_parts", dict(case["args"]), {"results": results}))
    sku, name, price, _ = case["results"][0]
    res = _stock_result(rng, sku, store)
    tc.call(("check_store_stock", {"sku": sku, "store": store}, res))
    product = (name, sku, price, 0.5, "")
    tc.say(rng.choice(case["answers"]) + " " + _stock_sentence(rng, product, res))


def tool_status_then_return(rng: random.Random, tc: ToolConv) -> None:
    product = _product(rng)
    oid = f"NW-{rng.randint(20000, 89999)}"
    tc.user(f"Did order {oid} arrive? I have been away for a few days and want to make sure it did not get lost.")
    res = _order_result(rng, oid, product, status="delivered")
    tc.call(("get_order_status", {"order_id": oid}, res))
    tc.say(_order_sentence(rng, res) + " Let me know if anything about it is not right.")
    tool_return(rng, tc, oid=oid, product=product, reasons=("unwanted", "damaged", "wrong_size"))


TOOL_PLAN = (
    [tool_order_status] * 7 + [tool_search] * 6 + [tool_return] * 5 + [tool_stock] * 4 + [tool_quote] * 5
    + [tool_parallel_orders] * 3 + [tool_parallel_stores] * 3 + [tool_parallel_search_quote] * 2
    + [tool_parallel_order_stock] * 2 + [tool_search_then_stock] * 2 + [tool_status_then_return]
)


# --------------------------------------------------------------------------------------------
# Alpaca records (instruction / input / output), prompt-completion pairs and plain text
# --------------------------------------------------------------------------------------------

ALPACA_NO_INPUT = [
    ("Explain what a derailleur hanger is and why it sometimes bends.",
     "A derailleur hanger is a small, replaceable metal part that connects the rear derailleur to the frame. It is deliberately weaker than the frame, so when the bike falls onto its drive side, the hanger bends instead of the frame itself. A bent hanger pushes the derailleur out of line with the cogs and causes poor shifting; it can be straightened with an alignment tool or replaced cheaply."),
    ("List three ways to reduce the risk of flat tires on a commuter bike.",
     "1. Fit puncture-resistant tires with a protective belt under the tread.\n2. Keep the tires at the recommended pressure, because underinflated tires are prone to pinch flats.\n3. Check the tread every week or so and remove small pieces of glass or flint before they work their way through."),
    ("Write a short packing checklist for a one-day gravel ride.",
     "- A spare tube, tire levers and a mini pump\n- A multitool with a chain breaker and a spare quick link\n- Two full water bottles and enough food for the whole ride\n- A light windproof jacket\n- A phone with the route downloaded, plus some cash\n- A small first-aid kit."),
    ("Describe how to bed in new disc brake pads.",
     "Find a safe, quiet and flat stretch of road. Ride at a moderate speed and brake firmly until you slow to walking pace, without locking the wheel, and repeat this 10 to 20 times. Finish with a few harder stops. This transfers an even layer of pad material onto the rotor, which gives the brakes their full power and keeps them quiet."),
    ("Give two reasons to replace a bicycle chain before it is badly worn.",
     "First, a worn chain wears out the cassette and chainrings, which cost far more than a chain, so replacing it early saves money. Second, a stretched chain shifts poorly and can skip under load, which is both annoying and unsafe when you stand on the pedals."),
    ("Explain the difference between a threaded and a press-fit bottom bracket.",
     "A threaded bottom bracket screws into matching threads cut into the frame's bottom bracket shell, which makes it easy to install and remove with a simple tool. A press-fit bottom bracket has bearing cups that are pressed into a smooth shell without threads. Press-fit designs allow wider shells and lighter frames, but they need a press to install and can creak if the tolerances are off."),
    ("Write a friendly welcome message for new members of a cycling club.",
     "Welcome to the club! We are so glad you have joined us. Our group rides leave every Saturday at 8 am from the town square, with a relaxed no-drop pace for newer riders and a faster group for those who want a workout. Bring a spare tube, some water and a smile, and introduce yourself to the ride leader on your first day."),
    ("What is the purpose of tubeless tire sealant?",
     "Tubeless sealant is a liquid that sits inside a tubeless tire and seals small punctures as they happen. When something pierces the tire, air pressure pushes the sealant into the hole, where its fibres and particles clog the gap and dry into a plug. It also seals tiny gaps between the tire bead and the rim, helping the tire hold air."),
    ("Name four signs that a bicycle needs a tune-up.",
     "1. The gears skip, hesitate or make grinding noises.\n2. The brakes feel spongy or need to be pulled almost to the handlebar.\n3. The wheels wobble when they spin or rub against the brake pads.\n4. You hear new creaks, clicks or rattles while riding."),
    ("Explain why wider tires can be run at lower pressure.",
     "A wider tire holds a larger volume of air, so it can support the same load at a lower pressure while keeping a similar contact patch length. The lower pressure lets the tire deform over bumps instead of bouncing, which improves comfort and grip. Because the extra volume still keeps the rim well away from the ground, the risk of pinch flats stays low."),
    ("Describe the correct way to clean a disc brake rotor.",
     "Spray isopropyl alcohol onto a clean, lint-free cloth and wipe both sides of the rotor thoroughly, turning the wheel as you go. Never use degreasers, spray lubricants or household cleaners near the rotor, since they leave residues that contaminate the pads. Let the alcohol evaporate fully before riding, and avoid touching the braking surface with your fingers."),
    ("Write a haiku about riding a bicycle in the rain.",
     "Grey clouds on the climb,\nwheels hiss through the shining road,\nwarm tea waits at home."),
    ("Give three tips for riding safely at night.",
     "1. Use a bright front light and a rear light, and keep them charged before every ride.\n2. Wear reflective details on moving parts of your body, such as ankles, because motion catches drivers' eyes.\n3. Ride a little slower than in daylight, since potholes and gravel are much harder to see."),
    ("Explain what the numbers on a 10-51T cassette mean.",
     "The numbers give the tooth counts of the smallest and largest cogs on the cassette: the smallest cog has 10 teeth and the largest has 51. The small cog gives the hardest gear for speed, and the large cog gives the easiest gear for steep climbs. A wide range like 10-51 is common on single-chainring mountain bikes."),
    ("Summarize the benefits of regular bicycle maintenance in two sentences.",
     "Regular maintenance keeps a bike safe, quiet and efficient, because brakes, gears and tires are adjusted before small problems become failures. It also saves money over time, since clean and well-lubricated parts such as chains and cassettes last much longer."),
    ("Convert 65 psi to bar and round the result to one decimal place.",
     "65 psi is about 4.5 bar, because one psi equals roughly 0.0689 bar and 65 times 0.0689 is 4.48."),
    ("How many minutes does it take to ride 30 km at an average speed of 24 km/h?",
     "It takes 75 minutes. Dividing 30 km by 24 km/h gives 1.25 hours, and 1.25 hours is 75 minutes."),
    ("Propose a simple weekly plan for a beginner cyclist who can ride three days a week.",
     "Day 1: an easy 45-minute ride at a conversational pace.\nDay 2: a 40-minute ride with five short, one-minute efforts up small hills, resting fully between them.\nDay 3: a longer weekend ride of 75 to 90 minutes at an easy pace, with a snack stop halfway.\nIncrease the longest ride by about 10 minutes each week, and take every fourth week easier."),
    ("Explain what a torque wrench is used for when working on bicycles.",
     "A torque wrench tightens a bolt to a precise, measured force instead of relying on feel. On bicycles this matters most for lightweight and carbon parts such as stems, handlebars and seatposts, which can crack when overtightened or slip when too loose. The correct value is usually printed next to the bolt or given in the part's manual."),
    ("Write a short social media post announcing a spring sale at a bicycle parts shop.",
     "Spring is here, and so is our big tune-up sale! Get 20 percent off tires, chains and brake pads until the end of the month, and make your first sunny ride a smooth one. See you on the road!"),
    ("Suggest three names for a bicycle repair workshop that focuses on commuters.",
     "1. The Daily Spoke, for riders who depend on their bike every day.\n2. Commute Fix, which says exactly what the shop does.\n3. Rush Hour Cycles, a playful name that hints at fast turnarounds."),
]

ALPACA_WITH_INPUT = [
    ("Classify the sentiment of this product review as positive, negative or mixed.",
     "The pump inflates my tires quickly and the gauge is easy to read, but the hose started cracking after two months.",
     "Mixed. The reviewer praises the speed and the gauge but reports that the hose cracked after two months."),
    ("Classify the sentiment of this product review as positive, negative or mixed.",
     "Best brake pads I have used. Quiet, strong and they lasted through a whole wet winter.",
     "Positive. The reviewer highlights quiet, strong braking and long life in wet conditions."),
    ("Classify the sentiment of this product review as positive, negative or mixed.",
     "The light arrived with a broken mount and the battery barely lasts half an hour.",
     "Negative. The reviewer received a damaged mount and is unhappy with the battery life."),
    ("Extract the order number and the problem from the customer message.",
     "Hi, order NW-55120 arrived today but the brake rotor inside is bent. Can you send a new one?",
     "Order number: NW-55120.\nProblem: the brake rotor arrived bent, and the customer asks for a replacement."),
    ("Rewrite the following reply so it sounds friendlier and more helpful.",
     "Returns only within 30 days. Use the form.",
     "Happy to help with your return! You can send items back within 30 days of delivery, and the return form on your order page will guide you through each step."),
    ("Convert the tire size to its ETRTO designation.",
     "700x32c",
     "32-622. The first number is the tire width in millimetres and the second is the bead seat diameter, which is 622 mm for every 700c wheel."),
    ("Calculate the total cost of the order, including shipping.",
     "2 inner tubes at $8.50 each, 1 tire at $52.00, shipping $6.95",
     "The total is $75.95: the two tubes cost $17.00, the tire costs $52.00, and shipping adds $6.95."),
    ("Summarize the return policy in one sentence.",
     "Unused items in their original packaging can be returned within 30 days of delivery. A prepaid label is available from the order page, and its cost of $6.95 is deducted from the refund unless the item was faulty or sent in error. Refunds are issued within five business days after the return arrives.",
     "Unused items in their original packaging can be returned within 30 days for a refund issued within five business days of arrival, minus a $6.95 label fee unless the item was faulty or sent in error."),
    ("Translate the following sentence into Spanish.",
     "Your order has shipped and should arrive within three business days.",
     "Su pedido ha sido enviado y debería llegar en un plazo de tres días hábiles."),
    ("Translate the following sentence into German.",
     "The workshop is closed on Sundays and Mondays.",
     "Die Werkstatt ist sonntags und montags geschlossen."),
    ("Write a product description from the given specifications.",
     "Product: Brightline Tailbeam rear light. Output: 80 lumens. Battery: 10 hours steady, 20 hours flashing. Mount: fits round and aero seatposts. Charging: USB-C.",
     "The Brightline Tailbeam keeps you visible from far behind with a bright 80-lumen output. It runs for 10 hours in steady mode or 20 hours flashing, charges over USB-C, and its mount fits both round and aero seatposts."),
    ("Correct the grammar in this sentence.",
     "The chain have to be replaced when it stretch too much.",
     "The chain has to be replaced when it stretches too much."),
    ("Sort these components from lightest to heaviest.",
     "wheelset 1650 g, chain 250 g, saddle 210 g, cassette 320 g",
     "Saddle (210 g), chain (250 g), cassette (320 g), wheelset (1650 g)."),
    ("Identify which of these parts belong to the drivetrain.",
     "chain, saddle, cassette, brake lever, chainring, handlebar tape, rear derailleur",
     "The drivetrain parts are the chain, the cassette, the chainring and the rear derailleur."),
    ("Answer the customer's question using only the policy below.",
     "Policy: Gift cards never expire and can be used online or in the Riverside store. They are not valid for buying other gift cards.\nQuestion: Can I use my gift card to buy a gift card for my brother?",
     "No. Gift cards are not valid for buying other gift cards, but you can spend yours on any product online or in the Riverside store, and it never expires."),
    ("Turn these notes into a short, polite message to a customer.",
     "replacement shipped today by express, arrives tomorrow; no need to return the damaged part; apologise",
     "We are sorry that your part arrived damaged. A replacement went out today by express and should reach you tomorrow, and there is no need to return the damaged one. Thank you for your patience."),
    ("Calculate the gear ratio and explain what it means.",
     "Chainring: 40 teeth. Rear cog: 20 teeth.",
     "The gear ratio is 40 divided by 20, which is 2.0. This means the rear wheel turns twice for every full turn of the cranks."),
    ("Classify the customer message into one of these categories: shipping, returns, technical, billing.",
     "I was charged twice for the same order yesterday.",
     "Billing."),
    ("Classify the customer message into one of these categories: shipping, returns, technical, billing.",
     "Will a 12-speed chain work with my 11-speed cassette?",
     "Technical."),
]

ALPACA_SYSTEM = {
    "Explain the difference between a threaded and a press-fit bottom bracket.":
        "You are a concise technical writer for a bicycle parts shop.",
    "Explain what the numbers on a 10-51T cassette mean.":
        "You explain bicycle technology to complete beginners, without jargon.",
    "Rewrite the following reply so it sounds friendlier and more helpful.":
        "You write customer messages for Northwind Cycles in a warm, professional tone.",
    "Write a product description from the given specifications.":
        "You write short, factual product copy for an online bicycle shop.",
}
ALPACA_HISTORY = {
    "How many minutes does it take to ride 30 km at an average speed of 24 km/h?":
        [["How far do people usually commute by bike?",
          "Many bike commuters ride between 5 and 15 km each way, although some ride much further."]],
    "Translate the following sentence into German.":
        [["Translate 'The shop opens at nine.' into German.", "Der Laden öffnet um neun."]],
    "Name four signs that a bicycle needs a tune-up.":
        [["How often should a bike be serviced?",
          "Most bikes benefit from a basic tune-up once a year, or twice a year if they are ridden daily."]],
    "Sort these components from lightest to heaviest.":
        [["What does a typical road bike chain weigh?", "A typical 11 or 12-speed road chain weighs about 250 g."],
         ["And a saddle?", "Road saddles usually weigh between 150 and 300 g, depending on the rails and padding."]],
}
EMPTY_INPUT_MARKERS = ["<noinput>", "No input", "N/A"]

REVIEWS = [
    ("These pedals have great grip even in the rain, and the bearings still spin smoothly after a year.", "Positive", "grip and durable bearings"),
    ("The tire wore through in 800 km and the sidewall split on a gravel descent.", "Negative", "rapid wear and a split sidewall"),
    ("Nice light and very bright, though the mount rattles on rough roads.", "Mixed", "brightness, but a rattling mount"),
    ("The handlebar tape looks great and is comfortable, but it was hard to wrap neatly.", "Mixed", "comfort and looks, but a tricky installation"),
    ("The multitool bent the first time I used the 5 mm key on a stiff bolt.", "Negative", "a tool that bent on first use"),
    ("Fast delivery, perfect fit and the chain shifts silently. Would buy again.", "Positive", "fast delivery, fit and quiet shifting"),
    ("The helmet is light and well ventilated, and the retention dial is easy to use with gloves.", "Positive", "light weight, ventilation and an easy dial"),
    ("The sealant dried out in six weeks and I got a flat on my next ride.", "Negative", "sealant that dried quickly"),
]
ETRTO = [("700x25c", "25-622"), ("700x28c", "28-622"), ("700x40c", "40-622"), ("650b x 47", "47-584"),
         ("29 x 2.4", "61-622"), ("27.5 x 2.35", "60-584")]
PSI_VALUES = [30, 45, 60, 80, 90, 100]

PROMPT_COMPLETION_UNITS = 15

TEXT_ONLY = [
    "Northwind Cycles started as a two-person repair bench behind a cafe and now ships bicycle parts across North America, Europe and Australia. The workshop in the Riverside district still services commuter bikes every day, and most of the product advice on the website comes from the mechanics who work there.",
    "How to check chain wear: shift onto a middle cog, drop the chain checker into the links and see whether it sits flat. On 11 and 12-speed drivetrains, a reading of 0.5 percent means the chain should be replaced; older drivetrains can go to 0.75 percent. Replacing the chain on time keeps the cassette and chainrings healthy for much longer.",
    "Winter riding checklist: fit mudguards, switch to a wet chain lube, lower your tire pressure slightly for grip, and charge your lights every evening. Rinse road salt off the bike after wet rides and dry the chain before it rusts.",
    "The Brightline Gravelpath is a 700x40 gravel tire with a low, tightly packed centre tread for speed on hardpack and taller shoulder knobs for grip in loose corners. It is tubeless-ready, weighs about 480 grams and suits everything from forest roads to long mixed-surface tours.",
    "Tubeless setup in brief: tape the rim, fit the valve, mount the tire with one bead, pour in the sealant, then seat both beads with a burst of air from a charger pump. Spin and shake the wheel so the sealant coats the whole inside of the tire, and check the pressure again the next morning.",
]


# --------------------------------------------------------------------------------------------
# Text measures and cleanliness checks (the same ideas as tests/test_sample_data.py)
# --------------------------------------------------------------------------------------------

_STRIP_PUNCT = str.maketrans("", "", string.punctuation)


def words(text: str) -> list[str]:
    """Lowercased words with ASCII punctuation removed."""
    return text.lower().translate(_STRIP_PUNCT).split()


def shingles(text: str, n: int = 5) -> set:
    w = words(text)
    if len(w) < n:
        return {tuple(w)} if w else set()
    return {tuple(w[i:i + n]) for i in range(len(w) - n + 1)}


def jaccard(a: set, b: set) -> float:
    inter = len(a & b)
    union = len(a) + len(b) - inter
    return inter / union if union else 0.0


def opening(text: str) -> str:
    return " ".join(words(text)[:3])


def sentence_count(text: str) -> int:
    return len(re.findall(r"[.!?](?=\s|$)", text.strip()))


_EMAIL_RX = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_DIGITS_RX = re.compile(r"\d(?:[\s().\-/]*\d){6,}")  # 7+ digits in a row (phone, card, IBAN-like)
_IP_RX = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")
_SECRET_RX = re.compile(r"\bsk-|AKIA|ASIA[0-9A-Z]{8}|gh[pousr]_|github_pat_|xox[abposr]-|AIza|eyJ|PRIVATE KEY|[rsp]k_live_")
_REFUSAL_RX = re.compile(
    r"as an ai|language model|openai|\bi cannot\b|\bi can['’]t\b|\bi am unable\b|\bi['’]m unable\b|"
    r"\bi am not able\b|\bi['’]m not able\b|\bi['’]m sorry\b|\bi am sorry\b|my limitations|knowledge cutoff",
    re.IGNORECASE)
_PLACEHOLDER_RX = re.compile(r"\{\{\s*[A-Za-z_]|\[\s*(?:INSERT|YOUR|ADD|ENTER|PLACEHOLDER)|<\s*(?:PLACEHOLDER|YOUR|INSERT)",
                             re.IGNORECASE)
_MOJIBAKE_RX = re.compile(r"Ã|Â|â€|\ufffd|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def text_problems(text: str, *, assistant: bool, prose: bool = True, max_sentences: int | None = 6) -> list[str]:
    """Why one message text would trip a content rule (empty list when clean)."""
    out = []
    if not isinstance(text, str) or not text.strip():
        return ["empty"]
    if "<|" in text or "|>" in text:
        out.append("special token")
    if _PLACEHOLDER_RX.search(text):
        out.append("placeholder")
    if prose and re.search(r"[{}\[\]<>]", text):
        out.append("bracket in prose")
    if _EMAIL_RX.search(text):
        out.append("email")
    if _DIGITS_RX.search(text):
        out.append("long digit run")
    if _IP_RX.search(text):
        out.append("ip address")
    if _SECRET_RX.search(text):
        out.append("secret-like")
    if _REFUSAL_RX.search(text):
        out.append("refusal phrasing")
    if _MOJIBAKE_RX.search(text):
        out.append("encoding damage")
    w = text.lower().split()
    if len(w) >= 30:
        grams = list(zip(w, w[1:], w[2:]))
        if len(set(grams)) / len(grams) < 0.6:
            out.append("repetition")
    if assistant:
        if text.rstrip()[-1] not in ".!?":
            out.append("does not end with . ! or ?")
        if text.count("```") % 2:
            out.append("unclosed code fence")
        if max_sentences is not None and not 1 <= sentence_count(text) <= max_sentences:
            out.append(f"{sentence_count(text)} sentences")
    return out


def chat_problems(example: dict) -> list[str]:
    """Structural and content problems of one OpenAI chat example."""
    out = []
    msgs = example.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return ["no messages"]
    i = 1 if msgs[0]["role"] == "system" else 0
    expect = "user"
    calls: set = set()
    pending: list = []
    for m in msgs[i:]:
        role = m["role"]
        if role == "system":
            out.append("system message not first")
        elif role == "tool":
            if m.get("tool_call_id") not in pending:
                out.append("tool message without a matching call")
            else:
                pending.remove(m["tool_call_id"])
            out += [f"tool: {p}" for p in text_problems(m["content"], assistant=False, prose=False)]
            expect = "assistant"
            continue
        elif role != expect and not (role == "assistant" and pending == [] and expect == "assistant"):
            out.append(f"role order: {role} where {expect} expected")
        if pending:
            out.append("tool calls left unanswered")
        if role == "assistant" and m.get("tool_calls"):
            if m.get("content") is not None:
                out.append("content next to tool_calls")
            for c in m["tool_calls"]:
                if not re.fullmatch(r"call_[A-Za-z0-9]{12}", c["id"]) or c["id"] in calls:
                    out.append("bad or repeated call id")
                calls.add(c["id"])
                pending.append(c["id"])
                if not isinstance(json.loads(c["function"]["arguments"]), dict):
                    out.append("arguments not a JSON object")
            expect = "assistant"
            continue
        out += [f"{role}: {p}" for p in text_problems(m["content"], assistant=role == "assistant")]
        expect = "assistant" if role == "user" else "user"
    if msgs[-1]["role"] != "assistant" or msgs[-1].get("tool_calls"):
        out.append("does not end with an assistant answer")
    weights = [m.get("weight", 1) for m in msgs if m["role"] == "assistant"]
    if weights and weights[-1] != 1:
        out.append("last assistant message has weight 0")
    if pending:
        out.append("unanswered tool calls")
    return out


# --------------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------------

def _conversation(rng: random.Random, u: dict) -> list[tuple[str, str]]:
    ctx = _ctx(rng)
    ctx["duty"] = DUTY_NOTES[ctx["country"]]
    q, a = _pick(rng, u)
    pairs = [(_fill(q, ctx), _fill(a, ctx))]
    n = rng.choices([1, 2, 3, 4], weights=[32, 34, 22, 12])[0]
    keys = u["follows"][:]
    rng.shuffle(keys)
    closer = n > 1 and rng.random() < 0.4
    for key in keys[: n - 1 - int(closer)]:
        f = FOLLOWS[key]
        q, a = _pick(rng, f)
        pairs.append((_fill(q, ctx), _fill(a, ctx)))
    if closer:
        pairs.append(rng.choice([c for i, c in enumerate(CLOSERS) if u["tech"] or i not in TECH_CLOSERS]))
    return pairs


# (name, size, largest share of one first-3-words opening)
POOL_SEGMENTS = [("support_chat", 150, 12), ("multilingual", 48, 5), ("sharegpt", 15, 2)]
POOL_MAX_JACCARD = 0.25


def english_pool(rng: random.Random) -> list[tuple[dict, list[tuple[str, str]]]]:
    """Distinct English conversations: every pair below POOL_MAX_JACCARD, first user turns all different."""
    units = [UNITS[k] for k in UNITS]
    accepted: list[tuple[dict, list]] = []
    sizes: list[int] = []  # shingle count of each accepted conversation
    index: dict[tuple, list[int]] = {}  # shingle -> accepted conversations that contain it
    firsts: set = set()
    bounds = []
    start = 0
    for _name, size, cap in POOL_SEGMENTS:
        bounds.append((start, start + size, cap))
        start += size
    counts: list[dict] = [{} for _ in POOL_SEGMENTS]
    for _attempt in range(100_000):
        if len(accepted) == start:
            break
        seg = next(i for i, (a, b, _c) in enumerate(bounds) if a <= len(accepted) < b)
        u = rng.choice(units)
        pairs = _conversation(rng, u)
        first = pairs[0][0]
        op = opening(first)
        if first in firsts or counts[seg].get(op, 0) >= bounds[seg][2]:
            continue
        sig = shingles("\n".join(t for p in pairs for t in p))
        shared: dict[int, int] = {}
        for sh in sig:
            for j in index.get(sh, ()):
                shared[j] = shared.get(j, 0) + 1
        if any(c / (len(sig) + sizes[j] - c) >= POOL_MAX_JACCARD for j, c in shared.items()):
            continue
        for sh in sig:
            index.setdefault(sh, []).append(len(accepted))
        accepted.append((u, pairs))
        sizes.append(len(sig))
        firsts.add(first)
        counts[seg][op] = counts[seg].get(op, 0) + 1
    else:
        raise RuntimeError(f"only {len(accepted)} distinct conversations found")
    return accepted


def _chat_messages(system: str | None, pairs, weight0: bool = False) -> list[dict]:
    msgs = [{"role": "system", "content": system}] if system else []
    for i, (u, a) in enumerate(pairs):
        msgs.append({"role": "user", "content": u})
        msg = {"role": "assistant", "content": a}
        if weight0 and i == 0:
            msg["weight"] = 0
        msgs.append(msg)
    return msgs


def _assign_systems(rng, convs, n_tech, n_short, n_none) -> list[str | None]:
    idx = list(range(len(convs)))
    tech = [i for i in idx if convs[i][0]["tech"]]
    rng.shuffle(tech)
    tech = tech[:n_tech]
    rest = [i for i in idx if i not in tech]
    rng.shuffle(rest)
    short, none = rest[:n_short], rest[n_short:n_short + n_none]
    out = []
    for i in idx:
        out.append(SYSTEM_TECH if i in tech else SYSTEM_SHORT if i in short else None if i in none else SYSTEM_MAIN)
    return out


def build_support(rng: random.Random, convs) -> list[dict]:
    systems = _assign_systems(rng, convs, n_tech=18, n_short=12, n_none=15)
    multi = [i for i, (_u, pairs) in enumerate(convs) if len(pairs) >= 2]
    weight0 = set(rng.sample(multi, 5))
    return [{"messages": _chat_messages(systems[i], pairs, i in weight0)} for i, (_u, pairs) in enumerate(convs)]


def build_multilingual(rng: random.Random, convs) -> list[dict]:
    systems = _assign_systems(rng, convs, n_tech=4, n_short=4, n_none=4)
    lines = [{"messages": _chat_messages(systems[i], pairs)} for i, (_u, pairs) in enumerate(convs)]
    for convs_l, system in ((GERMAN, SYSTEM_DE), (SPANISH, SYSTEM_ES)):
        for j, pairs in enumerate(convs_l):
            lines.append({"messages": _chat_messages(system if j % 3 else None, pairs)})
    rng.shuffle(lines)
    return lines


def _tool_list(rng: random.Random, used: list[str]) -> list[dict]:
    others = [n for n in FUNCTION_ORDER if n not in used]
    rng.shuffle(others)
    k = max(0, rng.randint(3, 5) - len(used))
    names = [n for n in FUNCTION_ORDER if n in used or n in others[:k]]
    return [{"type": "function", "function": FUNCTIONS[n]} for n in names]


def build_tools(rng: random.Random) -> list[dict]:
    plan = TOOL_PLAN[:]
    rng.shuffle(plan)
    lines: list[dict] = []
    signatures: list[set] = []
    for make in plan:
        system = [{"role": "system", "content": SYSTEM_TOOLS}] if rng.random() < 0.75 else []
        for _attempt in range(200):
            tc = ToolConv(rng)
            make(rng, tc)
            msgs = system + tc.messages
            sig = shingles("\n".join(m["content"] for m in msgs if m.get("content")))
            if all(jaccard(sig, s) < 0.4 for s in signatures):
                break
        else:
            raise RuntimeError(f"no distinct example from {make.__name__}")
        signatures.append(sig)
        line = {"messages": msgs, "tools": _tool_list(rng, tc.used)}
        if tc.parallel:
            line["parallel_tool_calls"] = True
        lines.append(line)
    return lines


def _unit_turn(rng: random.Random, u: dict) -> tuple[str, str]:
    ctx = _ctx(rng)
    ctx["duty"] = DUTY_NOTES[ctx["country"]]
    q, a = _pick(rng, u)
    return _fill(q, ctx), _fill(a, ctx)


def build_dpo(rng: random.Random, keys: list[str]) -> list[dict]:
    lines = []
    for key in keys:
        u = UNITS[key]
        prompt, good = _unit_turn(rng, u)
        msgs = []
        if rng.random() < 0.7:
            msgs.append({"role": "system", "content": SYSTEM_TECH if u["tech"] else SYSTEM_MAIN})
        msgs.append({"role": "user", "content": prompt})
        lines.append({"input": {"messages": msgs},
                      "preferred_output": [{"role": "assistant", "content": good}],
                      "non_preferred_output": [{"role": "assistant", "content": u["bad"]}]})
    return lines


def build_sharegpt_dpo(rng: random.Random, keys: list[str]) -> list[dict]:
    out = []
    for j, key in enumerate(keys):
        u = UNITS[key]
        prompt, good = _unit_turn(rng, u)
        conv = []
        if j % 4 == 1:
            conv.append({"from": "system", "value": SYSTEM_TECH if u["tech"] else SYSTEM_SHORT})
        if j % 3 == 2:
            other = UNITS[rng.choice([k for k in sorted(UNITS) if k != key])]
            q, a = _unit_turn(rng, other)
            conv += [{"from": "human", "value": q}, {"from": "gpt", "value": a}]
            prompt = rng.choice(["Thanks. Another question while I have you. ", "Got it. One more thing. ",
                                 "That helps, thank you. Something else. "]) + prompt
        conv.append({"from": "human", "value": prompt})
        out.append({"conversations": conv, "chosen": {"from": "gpt", "value": good},
                    "rejected": {"from": "gpt", "value": u["bad"]}})
    return out


def _to_sharegpt(messages: list[dict]) -> list[dict]:
    conv = []
    for m in messages:
        if m["role"] == "user":
            conv.append({"from": "human", "value": m["content"]})
        elif m["role"] == "assistant" and m.get("tool_calls"):
            (call,) = m["tool_calls"]
            fn = call["function"]
            conv.append({"from": "function_call",
                         "value": json.dumps({"name": fn["name"], "arguments": json.loads(fn["arguments"])})})
        elif m["role"] == "assistant":
            conv.append({"from": "gpt", "value": m["content"]})
        elif m["role"] == "tool":
            conv.append({"from": "observation", "value": m["content"]})
    return conv


def build_sharegpt(rng: random.Random, convs) -> list[dict]:
    records = []
    for j, (_u, pairs) in enumerate(convs):
        conv = []
        for q, a in pairs:
            conv += [{"from": "human", "value": q}, {"from": "gpt", "value": a}]
        rec: dict = {"conversations": conv}
        if j < 2:
            conv.insert(0, {"from": "system", "value": SYSTEM_SHORT})
        elif j < 6:
            rec["system"] = SYSTEM_MAIN
        records.append(rec)
    plan = [tool_order_status] * 4 + [tool_search] * 3 + [tool_return] * 3 + [tool_stock] * 2 + [tool_quote] * 2 \
        + [tool_status_then_return]
    for j, make in enumerate(plan):
        tc = ToolConv(rng)
        make(rng, tc)
        rec = {"conversations": _to_sharegpt(tc.messages)}
        if j % 3 == 0:
            rec["system"] = SYSTEM_TOOLS
        rec["tools"] = json.dumps([t["function"] for t in _tool_list(rng, tc.used)])
        records.append(rec)
    rng.shuffle(records)
    return records


def build_alpaca(rng: random.Random) -> list[dict]:
    no_input = ALPACA_NO_INPUT[:]
    markers = [m for m in EMPTY_INPUT_MARKERS for _ in range(3)] + [""] * (len(no_input) - 9)
    rng.shuffle(markers)
    records = [{"instruction": i, "input": mk, "output": o} for (i, o), mk in zip(no_input, markers)]
    records += [{"instruction": i, "input": x, "output": o} for i, x, o in ALPACA_WITH_INPUT]
    for r in records:
        if r["instruction"] in ALPACA_SYSTEM:
            r["system"] = ALPACA_SYSTEM[r["instruction"]]
        if r["instruction"] in ALPACA_HISTORY:
            r["history"] = ALPACA_HISTORY[r["instruction"]]
    rng.shuffle(records)
    return records


def build_alpaca_jsonl(rng: random.Random) -> list[dict]:
    records = []
    for text, label, reason in rng.sample(REVIEWS, 6):
        records.append({"instruction": "Classify the sentiment of the review as positive, negative or mixed, and give a short reason.",
                        "input": text, "output": f"{label}. The review mentions {reason}."})
    for size, etrto in rng.sample(ETRTO, 4):
        bead = etrto.split("-")[1]
        wheel = {"622": "700c and 29-inch", "584": "650b and 27.5-inch"}[bead]
        records.append({"instruction": "Give the ETRTO designation for this tire size.", "input": size,
                        "output": f"{etrto}. The tire is {etrto.split('-')[0]} mm wide and fits rims with a {bead} mm bead seat diameter, which is the size used by {wheel} wheels."})
    for k in range(4):  # two small baskets that pay for shipping, two that ship free
        pool = [p for p in PRODUCTS if p[2] < 40] if k < 2 else PRODUCTS
        items = rng.sample(pool, 2)
        qty = [1, rng.choice([1, 2])] if k < 2 else [rng.choice([1, 2]), 1]
        sub = round(sum(q * p[2] for q, p in zip(qty, items)), 2)
        desc = ", ".join(f"{q} x {p[0]} (${p[2]:.2f}{' each' if q > 1 else ''})" for q, p in zip(qty, items))
        if sub > 75:
            out = f"The subtotal is ${sub:.2f}. Shipping is free because the subtotal is over $75, so the total is ${sub:.2f}."
        else:
            out = f"The subtotal is ${sub:.2f}. Shipping adds $6.95 because the subtotal is not over $75, so the total is ${sub + 6.95:.2f}."
        records.append({"instruction": "Work out the order total. Standard shipping costs $6.95 and is free when the subtotal is over $75.",
                        "input": desc, "output": out})
    for psi in rng.sample(PSI_VALUES, 3):
        records.append({"instruction": "Convert the tire pressure from psi to bar, rounded to one decimal place.",
                        "input": f"{psi} psi", "output": f"{psi} psi is about {psi * 0.0689476:.1f} bar."})
    for km in rng.sample([25, 42, 65, 100, 160], 3):
        records.append({"instruction": f"How many miles is a {km} km ride? Round to one decimal place.", "input": "",
                        "output": f"A {km} km ride is about {km * 0.621371:.1f} miles."})
    rng.shuffle(records)
    return records


def build_prompt_completion(rng: random.Random, keys: list[str]) -> list[dict]:
    out = []
    for key in keys:
        q, a = _unit_turn(rng, UNITS[key])
        out.append({"prompt": f"Customer: {q}\nAgent:", "completion": " " + a})
    return out


# --------------------------------------------------------------------------------------------
# Self-check and main
# --------------------------------------------------------------------------------------------

def check_all(files: dict[str, object]) -> list[str]:
    problems: list[str] = []

    def add(name, line, items):
        problems.extend(f"{name}:{line}: {p}" for p in items)

    for name in ("support_chat.jsonl", "tools.jsonl", "multilingual.jsonl"):
        for i, ex in enumerate(files[name], 1):
            add(name, i, chat_problems(ex))
    sigs = [shingles("\n".join(m["content"] for m in ex["messages"])) for ex in files["support_chat.jsonl"]]
    for i in range(len(sigs)):
        for j in range(i + 1, len(sigs)):
            if jaccard(sigs[i], sigs[j]) >= 0.5:
                problems.append(f"support_chat.jsonl: lines {i + 1} and {j + 1} are near duplicates")
    for i, ex in enumerate(files["dpo.jsonl"], 1):
        for m in ex["input"]["messages"]:
            add("dpo.jsonl", i, text_problems(m["content"], assistant=False))
        good, bad = ex["preferred_output"][0]["content"], ex["non_preferred_output"][0]["content"]
        add("dpo.jsonl", i, text_problems(good, assistant=True) + text_problems(bad, assistant=True))
        if good == bad:
            problems.append(f"dpo.jsonl:{i}: identical outputs")
    for i, rec in enumerate(files["sharegpt_dpo.json"], 1):
        for t in rec["conversations"]:
            add("sharegpt_dpo.json", i, text_problems(t["value"], assistant=t["from"] == "gpt"))
        add("sharegpt_dpo.json", i, text_problems(rec["chosen"]["value"], assistant=True)
            + text_problems(rec["rejected"]["value"], assistant=True))
    for i, rec in enumerate(files["sharegpt.json"], 1):
        for t in rec["conversations"]:
            prose = t["from"] in ("human", "gpt", "system")
            add("sharegpt.json", i, text_problems(t["value"], assistant=t["from"] == "gpt", prose=prose))
    for name in ("alpaca.json", "alpaca.jsonl"):
        for i, rec in enumerate(files[name], 1):
            add(name, i, text_problems(rec["instruction"], assistant=False)
                + text_problems(rec["output"], assistant=True, max_sentences=None))
            if rec["input"] not in EMPTY_INPUT_MARKERS and rec["input"]:
                add(name, i, text_problems(rec["input"], assistant=False))
    for i, rec in enumerate(files["prompt_completion.jsonl"], 1):
        add("prompt_completion.jsonl", i, text_problems(rec["prompt"], assistant=False)
            + text_problems(rec["completion"], assistant=True))
    for i, rec in enumerate(files["text_only.jsonl"], 1):
        add("text_only.jsonl", i, text_problems(rec["text"], assistant=True, max_sentences=None))
    return problems


def build_all() -> dict[str, object]:
    pool = english_pool(random.Random(SEED))
    support, multi_en, share_en = pool[:150], pool[150:198], pool[198:213]
    keys = sorted(UNITS)
    random.Random(SEED + 1).shuffle(keys)
    return {
        "support_chat.jsonl": build_support(random.Random(SEED + 2), support),
        "tools.jsonl": build_tools(random.Random(SEED + 3)),
        "dpo.jsonl": build_dpo(random.Random(SEED + 4), keys[:40]),
        "alpaca.json": build_alpaca(random.Random(SEED + 5)),
        "alpaca.jsonl": build_alpaca_jsonl(random.Random(SEED + 6)),
        "sharegpt.json": build_sharegpt(random.Random(SEED + 7), share_en),
        "sharegpt_dpo.json": build_sharegpt_dpo(random.Random(SEED + 8), keys[40:] + keys[:20 - len(keys[40:])]),
        "prompt_completion.jsonl": build_prompt_completion(random.Random(SEED + 9), keys[-PROMPT_COMPLETION_UNITS:]),
        "text_only.jsonl": [{"text": t} for t in TEXT_ONLY],
        "multilingual.jsonl": build_multilingual(random.Random(SEED + 10), multi_en),
    }


def serialize(name: str, data) -> bytes:
    if name.endswith(".jsonl"):
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in data).encode("utf-8")
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out_dir = Path(argv[0]) if argv else Path(__file__).resolve().parent
    files = build_all()
    problems = check_all(files)
    if problems:
        print("refusing to write, the generated data breaks its own rules:", file=sys.stderr)
        for p in problems[:50]:
            print("  " + p, file=sys.stderr)
        return 1
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (out_dir / name).write_bytes(serialize(name, data))
    print(f"wrote {len(files)} files to {out_dir}: " + ", ".join(f"{n} ({len(d)})" for n, d in files.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
